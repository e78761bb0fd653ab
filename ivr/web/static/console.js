// The agent console, kept fresh without reloading: every 2 s it asks the JSON API for the
// queue and for this agent (/api/me); when the agent's state changes (ringing, on a call,
// wrap-up...) it fetches the desk, the screen pop (each desk view is audited, so it is not
// polled); every 10 s the callbacks; and it counts a wrap-up down each second. Nothing
// here is needed for the forms to work.
"use strict";

(function () {
  const POLL_MS = 2000;
  const CALLBACKS_EVERY = 5; // polls
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  let lastState = $("agent-state").dataset.state;
  // The agent's state and since when, at the last desk fetch (the page came with one).
  let deskSeen = lastState + " " + $("agent-state").dataset.since;
  let lastEntry = $("desk").dataset.entry;
  let wrapLeft = null;
  let ticks = 0;

  const WORDS = { missed: "Missed a call" }; // as ivr/web/labels.py says them

  function label(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (WORDS[value]) return WORDS[value];
    const text = String(value).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function duration(seconds) {
    if (typeof seconds !== "number") return "—";
    const whole = Math.floor(seconds);
    const minutes = Math.floor(whole / 60);
    const rest = whole % 60;
    return minutes ? minutes + " min " + String(rest).padStart(2, "0") + " s" : rest + " s";
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 401) {
      window.location.assign("/login?next=/");
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  function showQueue(data) {
    const rows = $("queue-rows");
    rows.replaceChildren();
    for (const p of data.entries) {
      const row = document.createElement("tr");
      for (const value of [p.position, p.queue, p.priority, p.language, p.caller, label(p.reason),
        duration(p.waited_seconds), duration(p.estimate_seconds), label(p.state), p.agent || "—",
        p.can_take ? "Yes" : "No"]) {
        cell(row, value === null || value === undefined ? "—" : String(value));
      }
      rows.appendChild(row);
    }
    const summary = data.count + " waiting or being offered.";
    if ($("queue-summary").textContent !== summary) $("queue-summary").textContent = summary;
  }

  function showAgent(agent) {
    const state = $("agent-state");
    $("missed").hidden = agent.state !== "missed";
    if (state.dataset.state !== agent.state) {
      state.dataset.state = agent.state;
      state.textContent = label(agent.state);
    }
    lastState = agent.state;
    $("agent-since").textContent = "(" + duration(agent.seconds_in_state) + ")";
    const going = agent.state === "offline" || agent.state === "missed" ? "available" : "offline";
    const button = $("availability");
    button.value = going;
    button.textContent = "Go " + going;
    wrapLeft = agent.wrap_up_seconds_left;
    showWrapUp();
  }

  function showWrapUp() {
    const box = $("wrap-up");
    box.hidden = wrapLeft === null || wrapLeft === undefined;
    if (!box.hidden) $("wrap-up-left").textContent = String(Math.max(0, wrapLeft));
  }

  function showDesk(desk) {
    showAgent(desk.agent);
    const entry = desk.entry;
    const id = entry ? String(entry.id) : "";
    $("no-call").hidden = Boolean(entry);
    $("screen-pop").hidden = !entry;
    if (!entry) {
      lastEntry = "";
      $("desk").dataset.entry = "";
      return;
    }
    const fields = {
      caller_id: entry.caller || "—",
      account_number: entry.account_number || "Not verified",
      reason: label(entry.reason),
      language: entry.language,
      queue: entry.queue,
      waited_seconds: duration(entry.waited_seconds),
      state: label(entry.state),
      kind: label(entry.kind),
    };
    for (const [name, text] of Object.entries(fields)) {
      const dd = document.querySelector('#screen-pop [data-field="' + name + '"]');
      if (dd.textContent !== text) dd.textContent = text;
    }
    if (id !== lastEntry) {
      // A new call: its path, its notes, a fresh form, and one announcement.
      const path = $("ivr-path");
      path.replaceChildren(...entry.path.map((node) => {
        const li = document.createElement("li");
        li.textContent = node;
        return li;
      }));
      const notes = $("earlier-notes");
      notes.replaceChildren();
      for (const note of desk.notes) {
        const li = document.createElement("li");
        li.textContent = note.at.slice(0, 19).replace("T", " ") + " UTC " + note.agent_name + ", " + label(note.disposition) + ": " + note.text;
        notes.appendChild(li);
      }
      if (!desk.notes.length) {
        const li = document.createElement("li");
        li.textContent = "None.";
        notes.appendChild(li);
      }
      const form = $("complete-form");
      form.action = "/calls/" + encodeURIComponent(id) + "/complete";
      form.reset();
      $("call-alert").textContent = "New call: " + fields.reason + ", account " + fields.account_number + ", " + fields.language + ".";
      lastEntry = id;
      $("desk").dataset.entry = id;
    }
  }

  function showCallbacks(data) {
    const rows = $("callback-rows");
    rows.replaceChildren();
    for (const c of data.callbacks) {
      const row = document.createElement("tr");
      for (const value of [c.id, c.number, label(c.reason), c.language, c.queue, label(c.state),
        c.attempts + " of " + c.max_attempts, c.expires_at]) {
        cell(row, String(value));
      }
      const action = cell(row, "");
      if (c.can_call_now) {
        const form = document.createElement("form");
        form.method = "post";
        form.action = "/callbacks/" + encodeURIComponent(c.id) + "/call";
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "csrf_token";
        hidden.value = token;
        const button = document.createElement("button");
        button.type = "submit";
        button.textContent = "Call now";
        button.setAttribute("aria-label", "Call now (callback " + c.id + ")");
        form.append(hidden, button);
        action.appendChild(form);
      }
      rows.appendChild(row);
    }
  }

  async function poll() {
    try {
      const [queue, me] = await Promise.all([getJson("/api/queue"), getJson("/api/me")]);
      showQueue(queue);
      const seen = me.agent.state + " " + me.agent.state_since;
      if (seen !== deskSeen) {
        showDesk(await getJson("/api/desk"));
        deskSeen = seen;
      } else {
        showAgent(me.agent);
      }
      if (ticks % CALLBACKS_EVERY === 0) showCallbacks(await getJson("/api/callbacks"));
      document.body.classList.remove("stale");
    } catch (error) {
      document.body.classList.add("stale");
    }
    ticks += 1;
    window.setTimeout(poll, POLL_MS);
  }

  window.setInterval(() => {
    if (typeof wrapLeft === "number" && wrapLeft > 0) {
      wrapLeft -= 1;
      showWrapUp();
    }
  }, 1000);
  wrapLeft = $("wrap-up").hidden ? null : Number($("wrap-up-left").dataset.left);
  poll();
})();
