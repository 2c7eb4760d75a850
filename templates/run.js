/* kit run: the presenter and projector pages. Both poll the server's state; only the
   presenter (which carries the run's token) sends actions. Nothing is loaded from
   anywhere but this server. Every word written here comes from the page: the server
   puts them, in the course's language, as JSON in the kit-run-words meta element
   (kit.run.page_words); placeholders are gettext's %(name)s. */
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
  var W = {};
  try { W = JSON.parse(meta("kit-run-words") || "{}"); } catch (e) { W = {}; }
  // a message of the page's words with its %(name)s placeholders filled in
  function say(message, values) {
    return String(message || "").replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values.hasOwnProperty(name) ? String(values[name]) : all;
    });
  }
  function word(group, key) { return (W[group] && W[group].hasOwnProperty(key)) ? W[group][key] : null; }
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
  // the room's name for each phase of the pair timer, by its key (W.room)
  function projector(s) {
    if (s.screen !== shownScreen) {
      $("screen").innerHTML = s.html;
      shownScreen = s.screen;
    }
    text("position", s.status === "waiting" || s.status === "ended" ? "" : (s.index + 1) + " / " + s.count);
    var t = s.timer;
    var room = t ? word("room", t.key) : null;
    var phase = t ? (room !== null ? room : t.phase) : "";
    show("timer", !!(t && phase));
    if (t && phase) {
      text("timer-phase", s.status === "paused" ? say(W.paused_phase, {phase: phase}) : phase);
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
      debrief[j].classList.toggle("active", !!(t && t.key === "debrief"));
    }
  }

  // --- the presenter ---------------------------------------------------------------------
  function presenter(s) {
    text("status", word("status", s.status) || s.status);
    text("now", s.now);
    text("clock", s.clock || "–");
    text("delay", s.delay_text);
    body.setAttribute("data-tone", s.tone || "");
    text("position", say(W.position, {number: s.index + 1, count: s.count}));
    text("span", s.segment.span);
    text("minutes", say(W.minutes_kind, {n: s.segment.minutes, kind: s.segment.kind_word || s.segment.kind}));
    text("title", s.segment.title);
    if (shownScreen !== s.index) {
      $("segment").innerHTML = s.segment.html;
      shownScreen = s.index;
    }
    $("progress").style.width = Math.round(s.progress * 100) + "%";
    body.classList.toggle("over", !!s.over);
    text("in-segment", s.in_segment ? say(W.in_segment, {time: s.in_segment}) : "");
    text("left", s.left ? (s.over ? say(W.over, {time: s.left.replace("-", "")}) : say(W.left, {time: s.left})) : "");
    text("note", s.note);
    text("toggle", word("toggle", s.status === "running" ? "pause" : s.status === "paused" ? "resume" : "start"));
    timer(s.timer);
    cuts(s);
    var n = s.next;
    show("next-panel", !!n);
    if (n) {
      text("next-title", n.title);
      text("next-when", say(W.next_when, {time: n.at, n: n.minutes}));
      text("next-say", n.say ? say(W.quoted, {text: n.say}) : "");
    }
    text("written", s.written || (s.debrief ? say(W.debrief_goes, {path: s.debrief}) : ""));
  }

  function timer(t) {
    show("timer", !!t);
    show("pair-button", !!t);
    if (!t) { show("call", false); lastCall = ""; return; }
    text("timer-phase", t.phase);
    text("timer-left", t.left);
    text("timer-next", t.next || "");
    var call = t.call ? say(W.call, {call: t.call}) : "";
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
        saves.textContent = say(W.saves, {n: c.saves});
        var when = document.createElement("span");
        when.className = "when";
        when.textContent = c.used ? say(W.used, {segment: c.segment}) :
          c.open ? say(W.decide_by, {time: c.decide, segment: c.segment}) : say(W.too_late, {segment: c.segment});
        li.appendChild(label); li.appendChild(title); li.appendChild(saves); li.appendChild(when);
        list.appendChild(li);
      });
    }
    if (!s.cuts.length) {
      text("cuts-heading", W.recovery_plan);
      text("cuts-summary", W.no_cuts);
    } else if (s.tone === "behind") {
      text("cuts-heading", W.behind_heading);
      text("cuts-summary", s.offered.length ? say(W.would_save, {
        cuts: s.offered.map(function (c) { return c.label; }).join(", "), n: s.offered_minutes}) : W.none_left);
    } else {
      text("cuts-heading", W.recovery_plan);
      text("cuts-summary", s.status === "waiting" ? W.offered_later : W.on_plan);
    }
    text("after-cuts", s.after_cuts ? say(W.after_cuts, {delay: s.after_cuts}) : "");
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
        else { endArmed = Date.now(); text("written", W.press_again || ""); }
      }
      else if (/^[1-9]$/.test(k)) { act("cut", parseInt(k, 10)); }
      else { return; }
      e.preventDefault();
    });
    var buttons = document.querySelectorAll("button[data-action]");
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].addEventListener("click", function (e) {
        var action = e.currentTarget.getAttribute("data-action");
        if (action === "end" && !window.confirm(W.confirm_end || "")) { return; }
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
