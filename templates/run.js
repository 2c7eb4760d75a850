/* kit run: the presenter and projector pages. Both poll the server's state; only the
   presenter (which carries the run's token) sends actions. Nothing is loaded from
   anywhere but this server. */
(function () {
  "use strict";
  var body = document.body;
  var view = body.getAttribute("data-view");
  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  }
  var token = meta("kit-run-token");
  var poll = parseInt(meta("kit-run-poll"), 10) || 500;
  function $(id) { return document.getElementById(id); }
  function text(id, value) {
    var el = $(id);
    if (el && el.textContent !== value) { el.textContent = value; }
  }
  function show(id, visible) {
    var el = $(id);
    if (el) { el.hidden = !visible; }
  }
  var state = null, shownScreen = null, shownCuts = null, lost = 0, lastCall = "", endArmed = 0;

  function fetchState() {
    var headers = view === "presenter" ? {"X-Kit-Run-Token": token} : {};
    fetch("/state/" + view, {cache: "no-store", headers: headers})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (s) { lost = 0; body.classList.remove("offline"); render(s); })
      .catch(function () { lost += 1; if (lost > 3) { body.classList.add("offline"); } })
      .then(function () { setTimeout(fetchState, poll); });
  }

  function render(s) {
    state = s;
    body.setAttribute("data-status", s.status);
    if (view === "presenter") { presenter(s); } else { projector(s); }
  }

  // --- the projector ---------------------------------------------------------------------
  var ROOM_PHASES = {"Set-up": "Find a partner", "A explains": "Turn 1", "B explains": "Turn 2: swap roles",
                     "Turn": "Your turn", "Debrief": "Debrief", "Pair flip starts in": "Pair flip in",
                     "Pair flip done": ""};
  function projector(s) {
    if (s.screen !== shownScreen) {
      $("screen").innerHTML = s.html;
      shownScreen = s.screen;
    }
    text("position", s.status === "waiting" || s.status === "ended" ? "" : (s.index + 1) + " / " + s.count);
    var t = s.timer;
    var phase = t ? (ROOM_PHASES.hasOwnProperty(t.phase) ? ROOM_PHASES[t.phase] : t.phase) : "";
    show("timer", !!(t && phase));
    if (t && phase) {
      text("timer-phase", phase + (s.status === "paused" ? " (paused)" : ""));
      text("timer-left", t.left);
    }
    // After the swap the partners trade parts: the letter on each part says who does it now.
    var swapped = !!(t && t.turn === "b");
    var roles = document.querySelectorAll(".role");
    for (var i = 0; i < roles.length; i++) {
      var part = roles[i].getAttribute("data-turn");
      roles[i].classList.toggle("active", !!(t && t.turn));
      var who = roles[i].querySelector(".who");
      if (who) { who.textContent = (part === "a") !== swapped ? "A" : "B"; }
    }
    var debrief = document.querySelectorAll(".block-pair .debrief");
    for (var j = 0; j < debrief.length; j++) {
      debrief[j].classList.toggle("active", !!(t && t.phase === "Debrief"));
    }
  }

  // --- the presenter ---------------------------------------------------------------------
  var STATUS = {waiting: "Not started: press S", running: "Running", paused: "Paused", ended: "Ended"};
  function presenter(s) {
    text("status", STATUS[s.status] || s.status);
    text("now", s.now);
    text("clock", s.clock || "–");
    text("delay", s.delay_text);
    body.setAttribute("data-tone", s.tone || "");
    text("position", "Segment " + (s.index + 1) + " of " + s.count);
    text("span", s.segment.span);
    text("minutes", s.segment.minutes + " min · " + s.segment.kind);
    text("title", s.segment.title);
    if (shownScreen !== s.index) {
      $("segment").innerHTML = s.segment.html;
      shownScreen = s.index;
    }
    $("progress").style.width = Math.round(s.progress * 100) + "%";
    body.classList.toggle("over", !!s.over);
    text("in-segment", s.in_segment ? s.in_segment + " in this segment" : "");
    text("left", s.left ? (s.over ? s.left.replace("-", "") + " over its time" : s.left + " left") : "");
    text("note", s.note);
    text("toggle", s.status === "running" ? "Pause" : s.status === "paused" ? "Resume" : "Start");
    timer(s.timer);
    cuts(s);
    var n = s.next;
    show("next-panel", !!n);
    if (n) {
      text("next-title", n.title);
      text("next-when", "planned " + n.at + " · " + n.minutes + " min");
      text("next-say", n.say ? "“" + n.say + "”" : "");
    }
    text("written", s.written || (s.debrief ? "The debrief file goes to " + s.debrief + " when the session ends." : ""));
  }

  function timer(t) {
    show("timer", !!t);
    show("pair-button", !!t);
    if (!t) { show("call", false); lastCall = ""; return; }
    text("timer-phase", t.phase);
    text("timer-left", t.left);
    text("timer-next", t.next || "");
    var call = t.call ? "Call “" + t.call + "”" : "";
    show("call", !!call);
    text("call", call);
    if (call && call !== lastCall) { beep(); }
    lastCall = call;
  }

  function cuts(s) {
    var key = JSON.stringify([s.cuts, s.offered, s.tone]);
    if (key !== shownCuts) {
      shownCuts = key;
      var list = $("cuts");
      list.textContent = "";
      var offered = {};
      s.offered.forEach(function (c) { offered[c.number] = true; });
      s.cuts.forEach(function (c) {
        var li = document.createElement("li");
        li.className = "cut" + (c.used ? " used" : "") + (offered[c.number] ? " offered" : "") + (c.open ? "" : " closed");
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = c.label;
        var title = document.createElement("span");
        title.className = "cut-title";
        title.textContent = c.title;
        var saves = document.createElement("span");
        saves.className = "saves";
        saves.textContent = "saves " + c.saves + " min";
        var when = document.createElement("span");
        when.className = "when";
        when.textContent = (c.used ? "used · " : c.open ? "decide by " + c.decide + " · " : "too late · ") + c.segment;
        li.appendChild(label); li.appendChild(title); li.appendChild(saves); li.appendChild(when);
        list.appendChild(li);
      });
    }
    if (!s.cuts.length) {
      text("cuts-heading", "Recovery plan");
      text("cuts-summary", "This session has no cuts.");
    } else if (s.tone === "behind") {
      text("cuts-heading", "Behind: cuts still available");
      text("cuts-summary", s.offered.length ? s.offered.map(function (c) { return c.label; }).join(", ") +
           " would save " + s.offered_minutes + " min. Press a cut's number to mark it as used."
           : "No cut is left to decide: shorten the discussion or the floor.");
    } else {
      text("cuts-heading", "Recovery plan");
      text("cuts-summary", s.status === "waiting" ? "Cuts are offered here when the session runs behind." :
           "On plan: no cut needed. Press a cut's number to mark it as used.");
    }
    text("after-cuts", s.after_cuts ? "With the cuts you marked: " + s.after_cuts : "");
  }

  var audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound: the banner is enough */ }
  }

  function act(action, cut) {
    if (action === "toggle") {
      action = state && state.status === "running" ? "pause" : "start";
    }
    var payload = {action: action};
    if (cut !== undefined) { payload.cut = cut; }
    return fetch("/action", {method: "POST", cache: "no-store",
                             headers: {"Content-Type": "application/json", "X-Kit-Run-Token": token},
                             body: JSON.stringify(payload)})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s && !s.error) { render(s); } })
      .catch(function () {});
  }

  if (view === "presenter") {
    document.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey) { return; }
      var k = e.key;
      if (k === "ArrowRight" || k === "PageDown" || k === " " || k === "n" || k === "N") { act("next"); }
      else if (k === "ArrowLeft" || k === "PageUp" || k === "b" || k === "B") { act("previous"); }
      else if (k === "s" || k === "S" || k === "p" || k === "P") { act("toggle"); }
      else if (k === "t" || k === "T") { act("pair"); }
      else if (k === "e" || k === "E") {
        if (Date.now() - endArmed < 3000) { endArmed = 0; act("end"); text("written", ""); }
        else { endArmed = Date.now(); text("written", "Press E again to end the session."); }
      }
      else if (/^[1-9]$/.test(k)) { act("cut", parseInt(k, 10)); }
      else { return; }
      e.preventDefault();
    });
    var buttons = document.querySelectorAll("button[data-action]");
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].addEventListener("click", function (e) {
        var action = e.currentTarget.getAttribute("data-action");
        if (action === "end" && !window.confirm("End the session and write the debrief file?")) { return; }
        act(action);
        e.currentTarget.blur();
      });
    }
    // a click on a cut marks it
    $("cuts").addEventListener("click", function (e) {
      var li = e.target.closest ? e.target.closest("li") : null;
      if (!li || !state) { return; }
      var label = li.querySelector(".label");
      if (label) { act("cut", parseInt(label.textContent.slice(1), 10)); }
    });
  }
  fetchState();
})();
