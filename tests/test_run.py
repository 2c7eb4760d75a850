"""`kit run`: the run's state and clock (a fake clock), the debrief it writes, the HTTP
layer's refusals, and both pages end to end in headless Chromium."""
from __future__ import annotations

import datetime as dt
import html
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from browser import Browser, needs_chromium, wait_for
from conftest import FACILITATOR_ONLY, PARTICIPANT, write_kit
from kit import model as m
from kit import views
from kit.debrief import load_debrief
from kit.errors import Problems
from kit.run import (DebriefTarget, LocalServer, Run, RunServer, debrief_target, fill_debrief, load_plan, pair_phases,
                     write_debrief)

START = dt.datetime(2027, 1, 13, 12, 30, 0)
PATIENCE = 60  # seconds: a bound for the browser, never asserted on
SHOTS = os.environ.get("KIT_RUN_SHOTS")  # a folder: the end-to-end test leaves screenshots there


class FakeClock:
    def __init__(self, at: dt.datetime = START):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, minutes: float = 0, seconds: float = 0) -> None:
        self.at += dt.timedelta(minutes=minutes, seconds=seconds)


@pytest.fixture(scope="module")
def kit_root(tmp_path_factory) -> Path:
    return write_kit(tmp_path_factory.mktemp("run") / "kit")


@pytest.fixture(scope="module")
def plan(kit_root):
    return load_plan(kit_root, "1")


def fresh(plan, clock=None, target=None) -> tuple[Run, FakeClock]:
    clock = clock or FakeClock()
    return Run(plan, now=clock, debrief=target), clock


# --- the plan and the state ---------------------------------------------------------------------

def test_the_plan_follows_the_run_of_show(plan):
    # The fixture: Recap 10 min, Pair flip 15, Wrap-up 5; one cut (5 min) in the pair flip.
    assert [(s.title, s.start, s.minutes) for s in plan.segments] == [
        ("Recap", 0, 10), ("Pair flip", 10, 15), ("Wrap-up", 25, 5)]
    assert [(c.label, c.saves, c.decide) for c in plan.cuts] == [("C1", 5, "0:20")]
    assert "FAC-SAY" in plan.segments[0].presenter_html and "FAC-TALKING-POINT" in plan.segments[0].presenter_html


def test_start_next_and_previous(plan):
    run, clock = fresh(plan)
    assert run.status() == "waiting" and run.clock() == 0
    run.act("next")  # before the start, "next" starts
    assert (run.status(), run.index, run.seg_wall[0]) == ("running", 0, START)
    clock.advance(minutes=10)
    run.act("next")
    assert run.index == 1 and run.seg_clock[1] == 600
    run.act("previous")  # a slip: the pair flip has not begun after all
    assert run.index == 0 and run.seg_clock[1] is None and run.seg_clock[0] == 0
    run.act("next")
    run.act("next")
    run.act("next")  # past the last segment: nothing
    assert run.index == 2
    run.act("end")
    assert run.status() == "ended"
    run.act("previous")  # back into the session from its end
    assert run.status() == "running" and run.index == 2
    with pytest.raises(ValueError):
        run.act("explode")


def test_a_pause_stops_the_session_clock(plan):
    run, clock = fresh(plan)
    run.act("start")
    clock.advance(minutes=3)
    run.act("pause")
    clock.advance(minutes=7)
    assert run.status() == "paused" and run.clock() == 180
    run.act("start")
    clock.advance(minutes=1)
    assert run.status() == "running" and run.clock() == 240


def test_behind_offers_the_cuts_still_open_and_ahead_offers_none(plan):
    run, clock = fresh(plan)
    run.act("start")
    clock.advance(minutes=12)
    run.act("next")  # the pair flip starts at 0:12, planned 0:10
    state = run.presenter_state()
    assert (state["delay"], state["delay_text"], state["tone"]) == (120, "2 min behind", "behind")
    assert [c["label"] for c in state["offered"]] == ["C1"] and state["offered_minutes"] == 5
    run.act("cut", 1)
    state = run.presenter_state()
    assert state["offered"] == [] and state["cuts"][0]["used"]
    assert state["after_cuts"] == "3 min ahead"  # the 5 minutes it saves are still ahead
    run.act("cut", 1)  # marked again: unmarked
    assert run.presenter_state()["offered"][0]["label"] == "C1"
    with pytest.raises(ValueError):
        run.act("cut", 7)
    clock.advance(minutes=9)  # 0:21: past the cut's decision point (0:20)
    state = run.presenter_state()
    assert state["offered"] == [] and not state["cuts"][0]["open"]
    clock.advance(minutes=7)  # 0:28: the pair flip overruns its planned end (0:25) by 3 minutes
    state = run.presenter_state()
    assert state["delay_text"] == "3 min behind" and state["over"]
    assert state["left"] == "-1:00"  # 16 of its 15 minutes


def test_ahead_and_on_time(plan):
    run, clock = fresh(plan)
    run.act("start")
    clock.advance(minutes=7, seconds=30)
    run.act("next")
    state = run.presenter_state()
    assert (state["delay_text"], state["tone"], state["offered"]) == ("2 min ahead", "ahead", [])
    clock.advance(seconds=150)  # 0:10 now: the pair flip is 2.5 min old and began early
    assert run.presenter_state()["delay_text"] == "2 min ahead"
    run2, clock2 = fresh(plan)
    run2.act("start")
    clock2.advance(minutes=10, seconds=40)
    run2.act("next")
    assert run2.presenter_state()["delay_text"] == "on time"


def test_with_a_delivery_the_clock_counts_from_its_start_time(kit_root, tmp_path):
    delivery = tmp_path / "cohort.yaml"
    delivery.write_text("cohort: Spring\nfirst_date: 2027-01-13\nstart: '12:30'\n")
    planned = load_plan(kit_root, "1", delivery_path=delivery)
    assert planned.segments[1].span == "12:40–12:55"
    run, _ = fresh(planned, FakeClock(START + dt.timedelta(minutes=5)))
    run.act("start")  # five minutes late
    state = run.presenter_state()
    assert state["delay_text"] == "5 min behind" and "12:30" in state["note"]
    rehearsal, _ = fresh(planned, FakeClock(START.replace(hour=9)))
    rehearsal.act("start")  # hours away from 12:30: a rehearsal counts from its own start
    assert rehearsal.presenter_state()["delay_text"] == "on time"
    target = debrief_target(planned, tmp_path, START.date())
    assert target.path == tmp_path / "debriefs" / "spring" / "01.yaml" and target.date == "2027-01-13"


def test_the_pair_timer_calls_swap_and_debrief(plan):
    timer = plan.segments[1].timer
    assert timer is not None
    # minutes: 5 and a swap, no set-up, the debrief gets the rest of the 15 minutes
    assert [(p.label, p.start, p.seconds, p.call) for p in timer.phases] == [
        ("A explains", 0, 300, ""), ("B explains", 300, 300, "swap"), ("Debrief", 600, 300, "debrief")]
    assert timer.plan == "0:10 A explains (5 min) · 0:15 call “swap”: B explains (5 min) · 0:20 debrief (5 min)"
    run, clock = fresh(plan)
    run.act("start")
    clock.advance(minutes=10)
    run.act("next")
    clock.advance(minutes=1)
    state = run.presenter_state()["timer"]
    assert (state["phase"], state["left"], state["call"], state["next"]) == (
        "A explains", "4:00", "", "call “swap” in 4:00")
    clock.advance(minutes=4, seconds=5)
    presenter, room = run.presenter_state()["timer"], run.projector_state()["timer"]
    assert (presenter["phase"], presenter["call"]) == ("B explains", "swap")
    assert room["turn"] == "b" and "plan" not in room and "next" not in room
    clock.advance(minutes=5)
    assert run.presenter_state()["timer"]["call"] == "debrief"
    clock.advance(minutes=1)
    assert run.presenter_state()["timer"]["call"] == ""  # the call shows for a few seconds
    run.act("pair")  # restart the timer: A explains again, from now
    assert run.presenter_state()["timer"]["phase"] == "A explains"


def test_pair_phases_with_set_up_and_debrief_minutes():
    src = m.Source("x.md", 1)
    pair = m.PairActivity("T", "Do it", "a", "b", 5, True, (), src, setup=1, debrief_minutes=2)
    assert [(p.label, p.start // 60, p.seconds // 60) for p in pair_phases(pair, 15)] == [
        ("Set-up", 0, 1), ("A explains", 1, 5), ("B explains", 6, 5), ("Debrief", 11, 2)]
    assert views.pair_split(pair, 15) == ("0:00 set-up (1 min) · 0:01 A explains (5 min) · 0:06 call “swap”: "
                                          "B explains (5 min) · 0:11 debrief (2 min)")
    even = m.PairActivity("T", "Do it", "a", "b", None, True, (), src, setup=2, debrief_minutes=4)
    assert [(p.label, p.start, p.seconds) for p in pair_phases(even, 15)] == [
        ("Set-up", 0, 120), ("A explains", 120, 270), ("B explains", 390, 270), ("Debrief", 660, 240)]


def test_the_projector_state_holds_no_facilitator_material_at_any_moment(plan):
    run, clock = fresh(plan)
    seen = [run.projector_state()]
    run.act("start")
    for _ in plan.segments:
        for _ in range(4):
            clock.advance(minutes=4)
            seen.append(run.projector_state())
        run.act("next")
    run.act("end")
    seen.append(run.projector_state())
    text = json.dumps(seen, ensure_ascii=False)
    assert [marker for marker in FACILITATOR_ONLY if marker in text] == []
    assert "FAC-" not in text
    assert [marker for marker in PARTICIPANT if marker not in text] == []  # the pre-work on the welcome screen too


# --- the debrief file -----------------------------------------------------------------------------

def validate(plan, path: Path):
    problems = Problems()
    loaded = load_debrief(path, path.parent, plan.kit, problems)
    assert loaded is not None, [p.format() for p in problems.errors]
    return loaded


def test_the_run_writes_a_debrief_file_that_validates(plan, tmp_path):
    target = debrief_target(plan, tmp_path, START.date())
    assert target.path == tmp_path / "debriefs" / "undated" / "2027-01-13-01.yaml"
    run, clock = fresh(plan, target=target)
    run.act("start")
    clock.advance(minutes=11)
    run.act("next")
    run.act("cut", 1)
    clock.advance(minutes=12)
    run.act("next")
    clock.advance(minutes=6)
    run.act("end")
    written = run.written
    assert written is not None and written.problems == () and written.created
    loaded = validate(plan, target.path)
    assert [(r.title, r.started, r.minutes) for r in loaded.segments] == [
        ("Recap", 750, 11), ("Pair flip", 761, 12), ("Wrap-up", 773, 6)]
    assert loaded.cuts_used == ("FAC-CUT skip the anecdote",) and loaded.cohort == "undated"
    text = target.path.read_text()
    assert "cuts_used: [C1]" in text and "# Fill it in after the session" in text  # the prefill's comments
    assert run.save() is written  # nothing changed: not written again


def test_an_existing_debrief_keeps_what_the_facilitator_wrote(plan, tmp_path):
    path = tmp_path / "01.yaml"
    path.write_text('course: fixture\nsession: 1\n# my own comment\nsegments:\n'
                    '  - segment: "Recap"\n    notes: "slow start"\n'
                    '  - segment: "Wrap-up"\n    minutes: 9\n'
                    'cuts_used:\n  - C1\nchange: "more time"\n')
    target = DebriefTarget(path, "x", "", "", tmp_path)
    written = write_debrief(plan, target, {0: "12:31", 1: "12:42", 2: "12:58"}, ["C1"], "13:05")
    assert written.problems == () and not written.created
    loaded = validate(plan, path)
    assert [(r.title, r.started, r.notes) for r in loaded.segments] == [
        ("Recap", 751, "slow start"), ("Pair flip", 762, ""), ("Wrap-up", None, "")]
    assert loaded.segments[2].minutes == 9  # the minutes they wrote stand
    assert loaded.change == "more time" and loaded.cuts_used == ("FAC-CUT skip the anecdote",)
    assert "# my own comment" in path.read_text()


def test_a_debrief_that_would_not_validate_is_left_alone(plan, tmp_path):
    path = tmp_path / "01.yaml"
    original = "course: fixture\nsession: 1\nsegments: []\nlanded: [Nothing like it]\n"
    path.write_text(original)
    written = write_debrief(plan, DebriefTarget(path, "x", "", "", tmp_path), {0: "12:31"}, [], None)
    assert written.problems and "Nothing like it" in " ".join(written.problems)
    assert path.read_text() == original and sorted(p.name for p in tmp_path.iterdir()) == ["01.yaml"]


def test_fill_debrief_refuses_a_layout_it_cannot_edit(plan):
    with pytest.raises(ValueError):
        fill_debrief("course: fixture\nsession: 1\nsegments: {a: 1}\n", plan.session, {0: "12:30"}, [], None, {})


# --- HTTP -------------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def quick_stop(monkeypatch):
    """`RunServer.stop()` waits for the server's loop to look up, which it does every 0.2 s;
    here it looks every 0.01 s, so that a test's server stops at once."""
    serve = LocalServer.serve_forever
    monkeypatch.setattr(LocalServer, "serve_forever", lambda self, poll_interval=0.5: serve(self, 0.01))


@pytest.fixture
def served(plan):
    run, clock = fresh(plan)
    with RunServer(run, port=0) as server:
        yield server, run, clock


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1].strip("/"))


def request(server, method: str, path: str, headers: dict | None = None, body: bytes | None = None,
            host: str | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True)
        conn.putheader("Host", host if host is not None else f"127.0.0.1:{port_of(server)}")
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def post(server, run, payload: dict, **extra) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json", "X-Kit-Run-Token": run.token,
               "Origin": f"http://127.0.0.1:{port_of(server)}"}
    headers.update(extra.pop("headers", {}))
    status, _, body = request(server, "POST", "/action", {k: v for k, v in headers.items() if v is not None},
                              json.dumps(payload).encode(), **extra)
    return status, body


def test_the_pages_are_served_with_a_strict_policy(served):
    server, run, _ = served
    status, headers, body = request(server, "GET", "/presenter")
    assert status == 200 and run.token.encode() in body
    assert "script-src 'self'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    status, _, body = request(server, "GET", "/projector")
    assert status == 200 and run.token.encode() not in body
    assert b"<script src=\"/run.js\"" in body and b"http" not in body.replace(b"http-equiv", b"")
    for path in ("/run.css", "/run.js", "/"):
        assert request(server, "GET", path)[0] == 200
    for path in ("/../../etc/passwd", "/__files/../kit/content/fixture/course.yaml", "/templates/run.js"):
        assert request(server, "GET", path)[0] == 404


def test_a_good_action_moves_the_run(served):
    server, run, _ = served
    status, body = post(server, run, {"action": "start"})
    assert status == 200 and json.loads(body)["status"] == "running"
    status, body = post(server, run, {"action": "next"})
    assert status == 200 and json.loads(body)["index"] == 1
    assert post(server, run, {"action": "cut", "cut": 9})[0] == 400
    assert post(server, run, {"action": "fly"})[0] == 400


@pytest.mark.parametrize("change", [
    {"headers": {"X-Kit-Run-Token": None}},
    {"headers": {"X-Kit-Run-Token": "guess"}},
    {"headers": {"Origin": "http://evil.example"}},
    {"headers": {"Origin": "null"}},
    {"headers": {"Origin": "http://127.0.0.1:1"}},
    {"headers": {"Origin": None, "Sec-Fetch-Site": "cross-site"}},
    {"headers": {"Content-Type": "text/plain"}},           # what a form or a simple fetch can send
    {"host": "evil.example"},
    {"host": "localhost.evil.example:{port}"},
])
def test_an_action_from_elsewhere_is_refused(served, change):
    server, run, _ = served
    if "host" in change:
        change = {"host": change["host"].format(port=port_of(server))}
    status, body = post(server, run, {"action": "start"}, **change)
    assert status in (403, 415, 421) and body == b""
    assert run.status() == "waiting"


def test_an_oversized_or_unsized_action_is_refused(served):
    server, run, _ = served
    headers = {"Content-Type": "application/json", "X-Kit-Run-Token": run.token}
    assert request(server, "POST", "/action", headers, b"x" * 5000)[0] == 413
    assert request(server, "POST", "/action", headers)[0] == 411
    assert request(server, "POST", "/action", headers, b"{not json")[0] == 400
    assert run.status() == "waiting"


def test_the_presenter_state_needs_the_token_and_other_hosts_get_nothing(served):
    server, run, _ = served
    assert request(server, "GET", "/state/presenter")[0] == 403
    status, _, body = request(server, "GET", "/state/presenter", {"X-Kit-Run-Token": run.token})
    assert status == 200 and b"FAC-SAY" in body
    status, _, body = request(server, "GET", "/state/projector")
    assert status == 200 and b"FAC-" not in body
    for path in ("/presenter", "/projector", "/state/projector"):
        assert request(server, "GET", path, host="evil.example")[:3:2] == (421, b"")


@pytest.fixture
def deep_backlog(monkeypatch):
    """The kernel holds at most `request_queue_size` (5) connections the server has not yet
    accepted; a client's connection past that waits a second for its retry. With a deeper
    queue the test's 30 connections open at once; the server must still answer beside them."""
    monkeypatch.setattr(LocalServer, "request_queue_size", 64)


def test_the_server_survives_half_open_connections(deep_backlog, served):  # in this order: the backlog first
    server, run, _ = served
    idle = [socket.create_connection(("127.0.0.1", port_of(server))) for _ in range(30)]
    for sock in idle[:10]:
        sock.sendall(b"POST /action HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
    try:
        assert request(server, "GET", "/state/projector")[0] == 200
        assert post(server, run, {"action": "start"})[0] == 200
    finally:
        for sock in idle:
            sock.close()


def visible(page: str) -> str:
    """A page's or a screen's text as the room reads it: no tags, no links."""
    text = re.sub(r"<[^>]+>", " ", page)
    return " ".join(re.sub(r"https?://\S+", " ", html.unescape(text)).split())


def test_a_german_course_projects_german_words_and_no_english_ones(tmp_path):
    from kit import i18n
    from test_i18n import DELIVERY, english_labels, found, kit_files, words as printed

    root = write_kit(tmp_path / "kit", kit_files(("de",)), defaults=False)  # content in no language
    (root / "cohort.yaml").write_text(DELIVERY, encoding="utf-8")
    planned = load_plan(root, "1", delivery_path=root / "cohort.yaml")
    de = i18n.translator("de")
    run, clock = fresh(planned)
    seen: list[str] = []   # everything the room can read, in order
    with RunServer(run, port=0) as server:
        def screen() -> dict:
            status, _, body = request(server, "GET", "/state/projector")
            assert status == 200
            state = json.loads(body)
            seen.extend([visible(state["html"]), state["session"]])
            if state["timer"]:
                seen.append(state["timer"]["phase"])
            return state

        status, _, body = request(server, "GET", "/projector")
        page = body.decode()
        assert status == 200 and '<html lang="de">' in page
        words = json.loads(html.unescape(re.search(r'<meta name="kit-run-words" content="([^"]*)"', page).group(1)))
        # what run.js writes on the room's screen: the pair timer's phases, in German
        assert words["room"]["b"] == de.gettext("Turn 2: swap roles") == "Runde 2: Rollen tauschen"
        assert words["room"]["setup"] == "Suchen Sie sich eine Partnerin oder einen Partner"
        assert words["paused_phase"] == "%(phase)s (pausiert)" and words["call"] == "„%(call)s“ ansagen"
        seen.append(visible(page))
        seen.extend(printed(str(v)) for group in words.values()  # as printed: placeholders filled in
                    for v in (group.values() if isinstance(group, dict) else [group]))

        welcome = screen()
        assert "Vor der heutigen Sitzung" in welcome["html"] and "Wir beginnen gleich." in welcome["html"]
        assert "Sitzung 1" in welcome["html"] and "(12 Min.)" in welcome["html"]
        run.act("start")
        assert "Frage 1 auf Ihrem Arbeitsblatt" in screen()["html"]
        clock.advance(minutes=10)
        run.act("next")  # the pair flip: set-up, A, B (after the swap), the debrief
        timer = planned.segments[1].timer
        assert timer is not None
        phases = []
        for phase in timer.phases:
            clock.at = START + dt.timedelta(minutes=10, seconds=timer.offset + phase.start + 1)
            phases.append(screen()["timer"]["phase"])
        assert phases == ["Einführung", "A erklärt", "B erklärt", "Nachbesprechung"]
        presenter = run.presenter_state()
        assert presenter["timer"]["call"] in ("", "Wechsel", "Nachbesprechung")
        assert presenter["segment"]["kind_word"] == "Partnerarbeit"
        run.act("end")
        assert "Vielen Dank!" in screen()["html"]
        status, _, body = request(server, "GET", "/presenter")
        assert status == 200 and "Sitzungsuhr" in body.decode() and "Aufholplan" in body.decode()
    room = " · ".join(seen)
    english = [label for label in english_labels("de") if found(label, room)]
    assert english == [], f"English labels on the German projector: {english}"


def test_kit_run_prints_its_pages_and_writes_the_debrief_on_ctrl_c(kit_root, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "kit", "run", "1", str(kit_root), "--port", "0"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    watchdog = threading.Timer(PATIENCE, proc.kill)  # a hung command fails the test, never the run
    watchdog.start()
    try:
        lines: list[str] = []
        while not any(line.startswith("Ctrl-C") for line in lines):
            line = proc.stdout.readline()
            assert line, f"kit run printed {lines} and stopped: {proc.stderr.read()}"
            lines.append(line)
        presenter = next(line.split()[-1] for line in lines if "presenter" in line)
        host = presenter.split("//")[1].split("/")[0]
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.request("GET", "/presenter")
        page = conn.getresponse().read().decode()
        token = page.split('name="kit-run-token" content="')[1].split('"')[0]
        conn.request("POST", "/action", json.dumps({"action": "start"}),
                     {"Content-Type": "application/json", "X-Kit-Run-Token": token})
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=PATIENCE)
        assert proc.returncode == 0, err
        assert "stopped" in err and "Traceback" not in err
        written = list((tmp_path / "debriefs" / "undated").glob("*-01.yaml"))
        assert len(written) == 1 and "wrote" in err
        assert 'started: "' in written[0].read_text()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- end to end in headless Chromium ---------------------------------------------------------------

@needs_chromium
def test_chromium_presenter_drives_and_projector_follows(plan, tmp_path, monkeypatch):
    monkeypatch.setattr("kit.run.POLL_MS", 50)  # the pages ask for the state every 50 ms, not 500
    target = debrief_target(plan, tmp_path, START.date())
    run, clock = fresh(plan, target=target)
    shots = Path(SHOTS) if SHOTS else None
    browser = Browser(tmp_path / "profile")
    with RunServer(run, port=0) as server:
        try:
            projector = browser.open(server.url + "projector")
            presenter = browser.open(server.url + "presenter")
            dom = "document.documentElement.outerHTML"
            screen = "document.getElementById('screen').textContent"
            wait_for(lambda: "PART-PREWORK-VIDEO" in (browser.evaluate(projector, screen) or ""), "the welcome screen")
            doms = [browser.evaluate(projector, dom)]
            wait_for(lambda: browser.evaluate(presenter, "document.getElementById('title').textContent") == "Recap",
                     "the presenter's first segment")
            browser.key(presenter, "s")  # start
            wait_for(lambda: run.status() == "running", "the start")
            wait_for(lambda: (browser.evaluate(projector, "document.querySelector('h1').textContent") or "")
                     == "Recap", "the projector to show the first segment")
            doms.append(browser.evaluate(projector, dom))
            if shots:
                browser.screenshot(presenter, shots / "presenter-1-recap.png")
                browser.screenshot(projector, shots / "projector-1-recap.png")
            clock.advance(minutes=12)
            browser.key(presenter, "ArrowRight")  # the pair flip, two minutes late
            wait_for(lambda: run.index == 1, "the next segment")
            wait_for(lambda: (browser.evaluate(projector, "document.querySelector('h1').textContent") or "")
                     == "Pair flip", "the projector to follow")
            clock.advance(minutes=5, seconds=3)  # B's turn: "swap"
            delay = wait_for(lambda: browser.evaluate(presenter, "document.getElementById('delay').textContent")
                             if "behind" in (browser.evaluate(presenter, "document.getElementById('delay')"
                                                              ".textContent") or "") else None, "the delay")
            assert delay == "2 min behind"
            offered = wait_for(lambda: browser.evaluate(
                presenter, "[...document.querySelectorAll('#cuts li.offered')].map(li => li.textContent)"),
                "the offered cuts")
            assert len(offered) == 1 and offered[0].startswith("C1") and "saves 5 min" in offered[0]
            wait_for(lambda: browser.evaluate(presenter, "document.getElementById('call').textContent")
                     == "Call “swap”", "the swap call")
            wait_for(lambda: browser.evaluate(projector, "document.querySelector('.role-a .who').textContent")
                     == "B", "the swap on the projector: B does A's part")
            doms.append(browser.evaluate(projector, dom))
            if shots:
                browser.screenshot(presenter, shots / "presenter-2-pair-flip-behind.png")
                browser.screenshot(projector, shots / "projector-2-pair-flip-swap.png")
            browser.key(presenter, "1")  # mark C1 as used
            wait_for(lambda: run.cuts_used == [1], "the cut to be marked")
            clock.advance(minutes=10)
            browser.key(presenter, "ArrowRight")
            wait_for(lambda: (browser.evaluate(projector, "document.querySelector('h1').textContent") or "")
                     == "Wrap-up", "the last segment")
            doms.append(browser.evaluate(projector, dom))
            clock.advance(minutes=5)
            browser.key(presenter, "e")
            browser.key(presenter, "e")  # twice: the end
            wait_for(lambda: run.status() == "ended", "the end")
            wait_for(lambda: "Thank you" in (browser.evaluate(projector, screen) or ""), "the end screen")
            doms.append(browser.evaluate(projector, dom))
        finally:
            browser.close()
    for page in doms:
        assert [marker for marker in FACILITATOR_ONLY if marker in page] == []
        assert "FAC-" not in page
    assert "PART-ROLE-B" in doms[2] and "PART-PROMPT-TEXT" in doms[1]
    loaded = validate(plan, target.path)
    assert [(r.title, r.started) for r in loaded.segments] == [("Recap", 750), ("Pair flip", 762), ("Wrap-up", 777)]
    assert loaded.cuts_used == ("FAC-CUT skip the anecdote",)
