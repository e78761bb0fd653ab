// The supervisor view, kept fresh without reloading: every 3 s it fetches this page again
// and swaps in its panels (queues, agents, waiting now, callbacks); a panel with a form
// the supervisor is using (focused, or a choice changed in the last 30 s) is left alone. Every second the times in
// state and waits (".ticking", seconds as the server counted them) count on in the
// browser. Without JavaScript the "Refresh" link does the same by hand.
"use strict";

(function () {
  const EVERY_MS = 3000;
  const EDITING_MS = 30000;
  const status = document.getElementById("updated");
  const born = new WeakMap(); // a ticking span -> when the browser got it

  function duration(seconds) {
    const minutes = Math.floor(seconds / 60);
    const rest = seconds % 60;
    return minutes ? minutes + " min " + String(rest).padStart(2, "0") + " s" : rest + " s";
  }

  function tick() {
    const now = Date.now();
    for (const span of document.querySelectorAll(".ticking[data-seconds]")) {
      const start = Number(span.dataset.seconds);
      if (span.dataset.seconds === "" || Number.isNaN(start)) continue;
      if (!born.has(span)) born.set(span, now);
      span.textContent = duration(start + Math.floor((now - born.get(span)) / 1000));
    }
  }

  document.addEventListener("change", function (event) {
    const panel = event.target.closest && event.target.closest("section.panel");
    if (panel) panel.dataset.editedAt = String(Date.now());
  });

  function busy(panel) {
    if (Date.now() - Number(panel.dataset.editedAt || 0) < EDITING_MS) return true;
    const active = document.activeElement;
    return active && active !== document.body && panel.contains(active) &&
      ["SELECT", "INPUT", "TEXTAREA"].includes(active.tagName);
  }

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
        if (busy(panel)) continue;
        const name = panel.getAttribute("aria-labelledby");
        const fresh = page.querySelector('section.panel[aria-labelledby="' + name + '"]');
        if (fresh) panel.replaceWith(document.importNode(fresh, true));
      }
      tick();
      status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
    } catch (error) {
      status.textContent = "Not updated (" + error.message + "); trying again.";
    } finally {
      window.setTimeout(refresh, EVERY_MS);
    }
  }

  tick();
  window.setInterval(tick, 1000);
  window.setTimeout(refresh, EVERY_MS);
})();
