// The supervisor view, kept fresh without reloading: every 3 s it fetches this page again
// and swaps in its panels (queues, agents, waiting now, callbacks). Without JavaScript the
// "Refresh" link does the same by hand.
"use strict";

(function () {
  const EVERY_MS = 3000;
  const status = document.getElementById("updated");

  async function refresh() {
    try {
      const response = await fetch(window.location.href, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
      });
      if (response.redirected && new URL(response.url).pathname === "/login") {
        window.location.assign(response.url); // signed out
        return;
      }
      if (!response.ok) throw new Error("the server answered " + response.status);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const panel of document.querySelectorAll("section.panel[aria-labelledby]")) {
        const name = panel.getAttribute("aria-labelledby");
        const fresh = page.querySelector('section.panel[aria-labelledby="' + name + '"]');
        if (fresh) panel.replaceWith(document.importNode(fresh, true));
      }
      status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
    } catch (error) {
      status.textContent = "Not updated (" + error.message + "); trying again.";
    } finally {
      window.setTimeout(refresh, EVERY_MS);
    }
  }

  window.setTimeout(refresh, EVERY_MS);
})();
