// The agent console, kept fresh without reloading. Live updates come by server-sent events
// (/api/events: a snapshot of the desk, the queue and the callbacks whenever one changes);
// when the server refuses a stream (too many open) or EventSource fails, the script falls
// back to polling the JSON API every 2 s, as before. It rings while a call is offered
// (a sound, the title, a notification if the agent allowed them), shows only the controls
// that make sense in the agent's state, writes every <time> in the browser's own zone,
// and answers a few keys (never inside a text field). The forms work without it.
"use strict";

(function () {
  const POLL_MS = 2000;
  const CALLBACKS_EVERY = 5; // polls
  const token = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  const root = $("console");
  const WORDS = JSON.parse(root.dataset.words);
  const baseTitle = document.title;
  const loadedState = root.dataset.state;
  let flashFor = loadedState; // the state the message on the page speaks of
  let lastEntry = $("desk").dataset.entry;
  let deskSeen = loadedState + " " + $("agent-state").dataset.since;
  let since = Date.parse($("agent-state").dataset.since);
  let skew = 0; // server clock minus this browser's, in ms
  let wrapLeft = $("wrap-up").hidden ? null : Number($("wrap-up-left").dataset.left);
  let ticks = 0;
  let polling = false;
  let ringingNow = false;
  let notice = null;
  // What the tests (and a curious agent) can read: rings played, notifications shown.
  const alerts = { rings: 0, notifications: 0, live: "starting" };
  window.consoleAlerts = alerts;

  const LABELS = { missed: "Missed a call" }; // as ivr/web/labels.py says them

  function label(value) {
    if (value === null || value === undefined || value === "") return "—";
    if (LABELS[value]) return LABELS[value];
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

  const localTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short",
  });

  function until(ms) { // as ivr/web/labels.py until()
    const span = Math.abs(Math.trunc(ms / 1000));
    let words;
    if (span >= 2 * 86400) words = Math.floor(span / 86400) + " days";
    else if (span >= 3600) words = Math.floor(span / 3600) + " h";
    else if (span >= 60) words = Math.floor(span / 60) + " min";
    else return "now";
    return ms > 0 ? "in " + words : words + " ago";
  }

  function writeTime(el) {
    const at = Date.parse(el.getAttribute("datetime"));
    if (Number.isNaN(at)) return;
    const shown = localTime.format(new Date(at));
    el.textContent = el.hasAttribute("data-relative") ? until(at - (Date.now() + skew)) + " (" + shown + ")" : shown;
  }

  function timeEl(iso, relative) {
    const el = document.createElement("time");
    el.setAttribute("datetime", iso);
    if (relative) el.setAttribute("data-relative", "");
    writeTime(el);
    return el;
  }

  function list(el, lines, none) {
    el.replaceChildren(...(lines.length ? lines : [none]).map((line) => {
      const li = document.createElement("li");
      li.textContent = line;
      return li;
    }));
  }

  function say(text, kind) {
    const flash = $("flash");
    flash.replaceChildren();
    if (!text) return;
    const p = document.createElement("p");
    p.className = "flash " + (kind || "info");
    p.textContent = text;
    flash.appendChild(p);
  }

  function setLive(text) {
    $("live").hidden = !text;
    $("live").textContent = text || "";
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") Object.assign(headers, { "Content-Type": "application/json", "X-CSRF-Token": token });
    const response = await fetch(path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      window.location.assign("/login?next=/");
      throw new Error("signed out");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || path + ": " + response.status);
      error.said = Boolean(data.message);
      throw error;
    }
    return data;
  }

  function cell(row, text, heading) {
    const td = document.createElement("td");
    td.dataset.label = heading;
    if (text instanceof Node) td.appendChild(text);
    else td.textContent = text === null || text === undefined ? "—" : String(text);
    row.appendChild(td);
    return td;
  }

  function showQueue(data) {
    const rows = $("queue-rows");
    const heads = ["#", "Queue", "Priority", "Language", "Caller", "Reason", "Waited", "Estimate", "State", "Agent", "You can take"];
    rows.replaceChildren();
    for (const p of data.entries) {
      const row = document.createElement("tr");
      [p.position, p.queue, p.priority, p.language, p.caller, label(p.reason), duration(p.waited_seconds),
        duration(p.estimate_seconds), label(p.state), p.agent || "—", p.can_take ? "Yes" : "No"]
        .forEach((value, i) => cell(row, value, heads[i]));
      rows.appendChild(row);
    }
    const summary = data.count + " waiting or being offered.";
    if ($("queue-summary").textContent !== summary) $("queue-summary").textContent = summary;
  }

  function showAgent(agent, serverNow) {
    if (serverNow) skew = Date.parse(serverNow) - Date.now();
    const state = $("agent-state");
    if (agent.state !== flashFor) {
      // The message on the page was about another state: it is not true any more.
      for (const old of document.querySelectorAll("#flash .flash.info")) old.remove();
      flashFor = agent.state;
    }
    if (state.dataset.state !== agent.state) {
      state.dataset.state = agent.state;
      state.textContent = label(agent.state);
    }
    root.dataset.state = agent.state;
    $("status-text").textContent = (WORDS.status[agent.state] || "").replace("{reason}", agent.pause_reason || "");
    for (const control of document.querySelectorAll("[data-states]")) {
      control.hidden = !control.dataset.states.split(" ").includes(agent.state);
    }
    if (agent.pause_reason) $("pause-reason").value = agent.pause_reason;
    since = Date.parse(agent.state_since);
    showSince();
    wrapLeft = agent.wrap_up_seconds_left;
    showWrapUp();
  }

  function showSince() {
    const seconds = Math.max(0, Math.floor((Date.now() + skew - since) / 1000));
    $("agent-since").textContent = "(" + duration(seconds) + ")";
  }

  function showWrapUp() {
    const box = $("wrap-up");
    box.hidden = wrapLeft === null || wrapLeft === undefined;
    if (!box.hidden) $("wrap-up-left").textContent = String(Math.max(0, wrapLeft));
  }

  function ring(on, who) {
    const audio = $("ring");
    if (on && !ringingNow) {
      ringingNow = true;
      document.title = "Ringing — " + who + " · " + baseTitle;
      audio.currentTime = 0;
      audio.play().then(() => { alerts.rings += 1; }).catch(() => {
        $("alerts-said").textContent = "The browser kept the ring silent: turn on call alerts.";
      });
      if ("Notification" in window && Notification.permission === "granted") {
        notice = new Notification("Call ringing", { body: who, tag: "ivr-ringing" });
        alerts.notifications += 1;
      }
    } else if (!on && ringingNow) {
      ringingNow = false;
      document.title = baseTitle;
      audio.pause();
      if (notice) notice.close();
      notice = null;
    }
  }

  function showDesk(desk) {
    showAgent(desk.agent, desk.now);
    const entry = desk.entry;
    const story = desk.story;
    $("no-call").hidden = Boolean(entry);
    $("screen-pop").hidden = !entry;
    if (!entry || !story) {
      ring(false);
      lastEntry = "";
      $("desk").dataset.entry = "";
      return;
    }
    const id = String(entry.id);
    const status = story.account_status ? WORDS.account_states[story.account_status] || label(story.account_status) : "—";
    const fields = {
      holder_name: story.holder_name || "No account named",
      account_status: status + (entry.account_number ? " (no. " + entry.account_number + ")" : ""),
      verification: story.verification,
      reason: story.reason,
      caller_id: entry.caller || "—",
      language: WORDS.languages[entry.language] || entry.language,
      queue: label(entry.queue),
      waited_seconds: duration(entry.waited_seconds),
      state: WORDS.call_states[entry.state] || label(entry.state),
      kind: WORDS.kinds[entry.kind] || label(entry.kind),
    };
    for (const [name, text] of Object.entries(fields)) {
      const dd = document.querySelector('#screen-pop [data-field="' + name + '"]');
      if (dd.textContent !== text) dd.textContent = text;
    }
    const offered = entry.state === "offered";
    $("complete-form").hidden = offered;
    $("finish-later").hidden = !offered;
    ring(desk.agent.state === "ringing", story.reason + ", " + (story.holder_name || entry.caller || "unknown caller"));
    if (id !== lastEntry) {
      // A new call: its story, its notes, a fresh form, and one announcement.
      list($("ivr-told"), story.told, "Nothing looked up or told.");
      list($("ivr-path"), story.path, "—");
      const notes = $("earlier-notes");
      notes.replaceChildren();
      for (const note of desk.notes) {
        const li = document.createElement("li");
        li.append(timeEl(note.at, false), " " + note.agent_name + ", " + label(note.disposition) + ": " + note.text);
        notes.appendChild(li);
      }
      if (!desk.notes.length) list(notes, [], "None.");
      const form = $("complete-form");
      form.action = "/calls/" + encodeURIComponent(id) + "/complete";
      form.reset();
      $("call-alert").textContent = "New call: " + story.reason + ", " + fields.holder_name + ", " + fields.verification;
      lastEntry = id;
      $("desk").dataset.entry = id;
    }
  }

  function showCallbacks(items) {
    const rows = $("callback-rows");
    const heads = ["Ref", "Number", "Reason", "Language", "Queue", "State", "Attempts", "Expires", "Action"];
    rows.replaceChildren();
    for (const c of items) {
      const row = document.createElement("tr");
      [c.id, c.number, label(c.reason), c.language, c.queue, label(c.state), c.attempts + " of " + c.max_attempts,
        timeEl(c.expires_at, true)].forEach((value, i) => cell(row, value, heads[i]));
      const action = cell(row, "", "Action");
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

  // -- live updates: server-sent events, else polling --------------------------------------

  function listen() {
    if (!("EventSource" in window)) return startPolling("no live updates in this browser");
    const source = new EventSource("/api/events");
    source.addEventListener("snapshot", (event) => {
      const shot = JSON.parse(event.data);
      showQueue(shot.queue);
      showDesk(shot.desk);
      showCallbacks(shot.callbacks);
      alerts.live = "events";
      setLive("");
      document.body.classList.remove("stale");
    });
    source.addEventListener("away", (event) => {
      alerts.live = "away";
      setLive(JSON.parse(event.data).message);
      document.body.classList.add("stale");
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) { // refused (503) or not an event stream
        startPolling("live updates unavailable: checking every 2 s");
      } else {
        alerts.live = "reconnecting";
        setLive("Connection lost: reconnecting…");
      }
    });
  }

  function startPolling(why) {
    if (polling) return;
    polling = true;
    alerts.live = "polling";
    setLive(why.charAt(0).toUpperCase() + why.slice(1) + ".");
    poll();
  }

  async function poll() {
    try {
      const [queue, me] = await Promise.all([api("GET", "/api/queue"), api("GET", "/api/me")]);
      showQueue(queue);
      const seen = me.agent.state + " " + me.agent.state_since;
      if (seen !== deskSeen) { // each desk view is audited, so it is not polled
        showDesk(await api("GET", "/api/desk"));
        deskSeen = seen;
      } else {
        showAgent(me.agent, queue.now);
      }
      if (ticks % CALLBACKS_EVERY === 0) showCallbacks((await api("GET", "/api/callbacks")).callbacks);
      document.body.classList.remove("stale");
    } catch (error) {
      document.body.classList.add("stale");
    }
    ticks += 1;
    window.setTimeout(poll, POLL_MS);
  }

  async function refreshDesk() {
    showDesk(await api("GET", "/api/desk"));
  }

  // -- forms that need no reload, alerts, keys -----------------------------------------------

  function quietly(form, send) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const [said, state] = await send();
        await refreshDesk();
        // Said only while still true ("You are available." is not, once a call rings).
        say(root.dataset.state === state ? said : "");
        flashFor = root.dataset.state;
      } catch (error) {
        say(error.said ? error.message : "That did not go through: try again.", "error");
      }
    });
  }

  async function becoming(body, said) {
    const done = await api("POST", "/api/state", body);
    return [said, done.agent.state];
  }

  quietly($("go-available"), () => becoming({ state: "available" }, "You are available."));
  quietly($("go-offline"), () => becoming({ state: "offline" }, "You are offline."));
  quietly($("pause-form"), () => {
    const reason = $("pause-reason").value;
    return becoming({ state: "paused", reason }, "You are paused (" + reason + ").");
  });
  quietly($("take-next"), async () => {
    const done = await api("POST", "/api/queue/claim");
    return ["Caller " + (done.assignment.entry.caller || "") + " is yours.", done.assignment.agent.state];
  });

  $("alerts").hidden = false;
  $("alerts-on").addEventListener("click", async () => {
    const audio = $("ring");
    audio.muted = true; // a silent play in this click lets the browser ring later
    try { await audio.play(); } catch (error) { /* said below */ }
    audio.pause();
    audio.muted = false;
    let said = "Sound on.";
    if ("Notification" in window) {
      const answer = await Notification.requestPermission();
      said += answer === "granted" ? " Notifications on." : " Notifications are blocked in this browser.";
    }
    $("alerts-said").textContent = said;
  });

  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "a" && !$("take-next").hidden) {
      $("take-next").requestSubmit();
    } else if (event.key === "f" && !$("screen-pop").hidden && !$("complete-form").hidden) {
      $("disposition").focus();
    } else if (event.key === "p" && !$("pause-form").hidden) {
      $("pause-reason").focus();
    } else if (event.key === "?") {
      $("shortcuts").open = !$("shortcuts").open;
    } else {
      return;
    }
    event.preventDefault();
  });

  window.setInterval(() => {
    if (typeof wrapLeft === "number" && wrapLeft > 0) {
      wrapLeft -= 1;
      showWrapUp();
    }
    showSince();
  }, 1000);
  window.setInterval(() => document.querySelectorAll("time[data-relative]").forEach(writeTime), 30000);
  document.querySelectorAll("time[datetime]").forEach(writeTime);
  listen();
})();
