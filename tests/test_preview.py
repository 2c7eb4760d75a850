"""`kit preview`: pages over HTTP from an in-process server, live reload, and Chromium end to end."""
from __future__ import annotations

import html
import http.client
import json
import re
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from browser import PATIENCE, Browser, needs_chromium
from browser import wait_for as eventually
from conftest import COURSE_YAML, FACILITATOR_ONLY, MODULE, PARTICIPANT, module, write_kit
from kit.build import BuildOptions, Planner
from kit.cli import main
from kit.errors import KitError, Problem
from kit.loader import load_kit
from kit.preview import LocalServer, PreviewServer, split_document

SECOND = module("title: Second Session\nminutes: 10",
                "PART-NOTHING\n\n## Only segment {minutes=10 kind=discussion}\n\nFAC-SECOND-TALK.\n")
GUIDE = "/fixture/guide/01-fixture.html"
SHEET = "/fixture/worksheet/01-fixture.html"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16  # served as bytes; never decoded here


def get(server: PreviewServer, path: str) -> tuple[int, str]:
    """GET `path` exactly as written (http.client neither normalises nor re-encodes it)."""
    conn = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1].strip("/")), timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def reload_state(server) -> dict:
    status, body = get(server, "/__reload")
    assert status == 200
    return json.loads(body)


def wait_for_new_generation(server, since: int) -> int:
    """Long-poll /__reload until the generation moves past `since`, as the pages' script does."""
    instance = reload_state(server)["instance"]

    def moved():
        state = json.loads(get(server, f"/__reload?since={since}&instance={instance}")[1])
        return state["generation"] if state["generation"] != since else None
    return eventually(moved, "the watcher to see the change")


@pytest.fixture(scope="module", autouse=True)
def quick_servers():
    """Two waits of a PreviewServer, shortened for the tests (the product's code is not
    changed): `stop()` waits for the HTTP loop to look up, every 0.2 s (here 0.01 s), and
    `start()` waits for the watcher's first empty answer, which comes after its `rust_timeout`
    of 200 ms (here 20 ms; it still says the watches are in place)."""
    import watchfiles

    serve, watch = LocalServer.serve_forever, watchfiles.watch
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalServer, "serve_forever", lambda self, poll_interval=0.5: serve(self, 0.01))
        patch.setattr(watchfiles, "watch", lambda *paths, **options: watch(*paths, **{**options, "rust_timeout": 20}))
        yield


@pytest.fixture(scope="module")
def kit_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("preview")
    (base / "secret.txt").write_text("TOP-SECRET outside the kit\n")
    root = write_kit(base / "kit", {
        "content/fixture/02-second.md": SECOND,
        "content/fixture/images/dot.png": PNG,
        "templates/extra.css": "p { color: black; }\n",
        "secret.txt": "KIT-ROOT-SECRET beside content\n",
    })
    (root / "content/fixture/leak.txt").symlink_to(base / "secret.txt")
    (root / "content/fixture/images/up").symlink_to(base)
    return root


@pytest.fixture(scope="module")
def server(kit_dir):
    with PreviewServer(kit_dir, port=0) as running:
        yield running


@pytest.fixture
def live(make_kit):
    """A kit of its own and a server on it, for the tests that edit files."""
    root = make_kit()
    with PreviewServer(root, port=0) as running:
        yield root, running


# --- pages --------------------------------------------------------------------------------

def test_the_index_lists_every_session_with_its_guide_and_worksheet(server):
    status, page = get(server, "/")
    assert status == 200
    assert "Fixture Course" in page
    for title, stem in (("Fixture Session", "01-fixture"), ("Second Session", "02-second")):
        assert title in page
        assert f'href="/fixture/guide/{stem}.html"' in page
        assert f'href="/fixture/worksheet/{stem}.html"' in page
    assert 'href="/fixture/guide.html"' in page


def test_the_index_shows_the_warnings_of_kit_check(server, kit_dir):
    # The second session has no objectives, no questions and no timing note (kit.checks).
    result = CliRunner().invoke(main, ["check", str(kit_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    warnings = [Problem(**p).format() for p in json.loads(result.stdout) if p["severity"] == "warning"]
    assert "content/fixture/02-second.md:1: warning: the session has no objectives" in warnings
    page = get(server, "/")[1]
    shown = re.search(r'<section class="kit-errors kit-warnings">\n<h2>(\d+) warnings</h2>\n<pre>(.*?)</pre>',
                      page, re.S)
    assert shown is not None, page
    assert html.unescape(shown.group(2)).splitlines() == warnings
    assert int(shown.group(1)) == len(warnings)


def test_a_session_guide_page_holds_the_facilitator_material(server):
    status, page = get(server, GUIDE)
    assert status == 200
    missing = [marker for marker in FACILITATOR_ONLY + PARTICIPANT if marker not in page]
    assert missing == []


def test_a_worksheet_page_holds_participant_material_and_no_facilitator_material(server):
    status, page = get(server, SHEET)
    assert status == 200
    assert [marker for marker in PARTICIPANT if marker not in page] == []
    assert "FAC-" not in page


def test_a_page_is_the_html_the_pdf_is_made_from_with_its_css_inlined(server, kit_dir):
    loaded = load_kit(kit_dir)
    course = loaded.kit.courses[0]
    planner = Planner(kit_dir, BuildOptions(out=kit_dir / "build"))
    for path, doc, css in ((GUIDE, planner.guide_session(course, course.sessions[0]), "guide.css"),
                           (SHEET, planner.worksheet_session(course, course.sessions[0]), "worksheet.css")):
        page = get(server, path)[1]
        body = split_document(doc.html).body.replace('href="#', f'href="{path}#')
        assert body in page
        assert planner.css[css] in page and planner.page_css in page
        # Relative resources resolve in the course folder, as they do for the PDF engine.
        assert '<base href="/__files/content/fixture/">' in page


def test_the_whole_guide_holds_the_front_matter_and_every_session(server):
    status, page = get(server, "/fixture/guide.html")
    assert status == 200
    assert "Facilitator guide" in page and "Contents" in page
    assert "FAC-STORY" in page and "FAC-SECOND-TALK" in page
    status, sheets = get(server, "/fixture/worksheets.html")
    assert status == 200 and "PART-PAIR-TEXT" in sheets and "FAC-" not in sheets


def test_unknown_pages_are_404(server):
    for path in ("/nope/guide.html", "/fixture/guide/99-none.html", "/fixture/other/01-fixture.html"):
        assert get(server, path)[0] == 404, path


# --- resources ------------------------------------------------------------------------------

def test_files_inside_content_and_templates_are_served(server):
    status, body = get(server, "/__files/content/fixture/images/dot.png")
    assert status == 200 and body.startswith("\ufffdPNG")
    assert get(server, "/__files/templates/extra.css") == (200, "p { color: black; }\n")
    assert get(server, "/__files/content/fixture/course.yaml") == (200, COURSE_YAML)


@pytest.mark.parametrize("path", [
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/__files/../../etc/passwd",
    "/__files/content/../../../etc/passwd",
    "/__files/content/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/__files/content/..%2f..%2f..%2fetc%2fpasswd",
    "/__files/content/fixture/..%5c..%5csecret.txt",
    "/__files/%2fetc/passwd",
    "/__files//etc/passwd",
    "/__files/etc/passwd",
    "/__files/secret.txt",                               # beside content/, not inside it
    "/__files/content/../secret.txt",
    "/__files/content/fixture/leak.txt",                 # a link to a file outside the kit
    "/__files/content/fixture/images/up/secret.txt",     # a link to a folder outside the kit
    "/__files/content/fixture/%00.png",
    "/__files/content/fixture",                          # a folder
])
def test_paths_that_escape_the_kit_or_its_folders_are_404(server, path):
    status, body = get(server, path)
    assert status == 404
    assert "SECRET" not in body and "root:" not in body


# --- the Host header: DNS rebinding ---------------------------------------------------------

def port_of(server: PreviewServer) -> int:
    return int(server.url.rsplit(":", 1)[1].strip("/"))


def raw_request(server: PreviewServer, lines: list[str]) -> tuple[int, dict, bytes]:
    """Send the request `lines` as they are, read the whole answer (the server closes)."""
    import socket

    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


def with_host(server: PreviewServer, host: str | None, path: str, method: str = "GET") -> tuple[int, bytes]:
    request = [f"{method} {path} HTTP/1.1", "Connection: close"] + ([f"Host: {host}"] if host is not None else [])
    status, _, body = raw_request(server, request)
    return status, body


ANSWERED_PATHS = ["/", GUIDE, SHEET, "/fixture/guide.html", "/__reload",
                  "/__files/content/fixture/images/dot.png", "/nope.html"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "localhost.evil.example:{port}", "127.0.0.1:1", "localhost:{other}",
                                  "[::1]:{other}", "127.0.0.2:{port}", "0.0.0.0:{port}", "", "localhost.",
                                  "127.0.0.1:{port}@evil.example", "evil.example#127.0.0.1:{port}"])
def test_a_request_for_another_host_is_refused_with_no_content(server, host):
    port = port_of(server)
    host = host.format(port=port, other=port + 1)
    for path in ANSWERED_PATHS:
        for method in ("GET", "HEAD"):
            status, body = with_host(server, host, path, method)
            assert (status, body) == (421, b""), (host, path, method)


def test_a_request_without_a_host_or_with_two_is_refused(server):
    port = port_of(server)
    assert with_host(server, None, GUIDE) == (421, b"")
    status, _, body = raw_request(server, [f"GET {GUIDE} HTTP/1.0"])  # HTTP/1.0 may leave Host out
    assert (status, body) == (421, b"")
    status, _, body = raw_request(server, [f"GET {GUIDE} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                                           "Host: evil.example", "Connection: close"])
    assert (status, body) == (421, b"")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "localhost:{port}",
                                  "LocalHost:{port}", "[::1]", "[::1]:{port}"])
def test_a_request_for_this_machine_is_answered(server, host):
    status, body = with_host(server, host.format(port=port_of(server)), GUIDE)
    assert status == 200
    assert b"FAC-TALKING-POINT" in body


# --- live reload and errors -----------------------------------------------------------------

def test_an_edit_moves_the_generation_on_and_the_page_shows_the_new_text(live):
    root, server = live
    assert "Fixture Session" in get(server, GUIDE)[1]
    before = reload_state(server)["generation"]
    target = root / "content/fixture/01-fixture.md"
    target.write_text(MODULE.replace("title: Fixture Session", "title: Renamed Session"))
    after = wait_for_new_generation(server, before)
    assert after != before
    status, page = get(server, GUIDE)
    assert status == 200 and "Renamed Session" in page and "Fixture Session" not in page
    assert f"var generation = {after}," in page  # the page's script polls from the new generation


def test_content_errors_replace_every_page_until_they_are_fixed(live):
    root, server = live
    target = root / "content/fixture/01-fixture.md"
    broken = MODULE.replace("minutes: 30\n", "minutes: 30\n'<b>odd</b>': 1\n", 1)
    before = reload_state(server)["generation"]
    target.write_text(broken)
    wait_for_new_generation(server, before)
    for path in ("/", GUIDE, SHEET, "/fixture/guide.html"):
        status, page = get(server, path)
        assert status == 500, path
        assert "content/fixture/01-fixture.md:4: " in page, path
        assert "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd</b>" not in page  # escaped
        assert "var generation" in page  # it reloads by itself when fixed
    fixed = reload_state(server)["generation"]
    target.write_text(MODULE)
    wait_for_new_generation(server, fixed)
    status, page = get(server, GUIDE)
    assert status == 200 and "FAC-SAY" in page


def test_a_delivery_file_outside_the_kit_is_followed_too(make_kit, tmp_path):
    root = make_kit()
    delivery = tmp_path / "cohort.yaml"
    delivery.write_text("cohort: Spring\nfirst_date: 2026-01-14\nstart: '12:30'\n")
    with PreviewServer(root, port=0, delivery=delivery) as server:
        page = get(server, GUIDE)[1]
        assert "Wednesday 14 January 2026" in page and "12:30–12:40" in page
        before = reload_state(server)["generation"]
        delivery.write_text("cohort: Spring\nfirst_date: 2026-01-14\nstart: '9:00'\n")
        wait_for_new_generation(server, before)
        page = get(server, GUIDE)[1]
        assert "09:00–09:10" in page and "12:30" not in page


def test_a_template_error_shows_on_the_page(make_kit):
    root = make_kit({"templates/guide-session.html": "<p>{{ nowhere.at_all }}</p>\n"})
    with PreviewServer(root, port=0) as server:
        status, page = get(server, GUIDE)
        assert status == 500 and "template error" in page and "guide-session.html:1" in page
        assert get(server, SHEET)[0] == 200  # the worksheet's template is fine


def test_reload_answers_at_once_for_another_generation(live):
    _, server = live
    state = reload_state(server)
    again = json.loads(get(server, f"/__reload?since={state['generation'] + 5}&instance={state['instance']}")[1])
    assert again == state


def test_a_folder_that_is_not_a_kit_or_a_taken_port_is_a_kit_error(tmp_path, live):
    with pytest.raises(KitError, match="not a kit"):
        PreviewServer(tmp_path, port=0).start()
    _, running = live
    port = int(running.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(KitError, match=f"cannot listen on 127.0.0.1:{port}"):
        PreviewServer(live[0], port=port).start()


def test_kit_preview_prints_its_url_and_stops_on_ctrl_c(make_kit):
    root = make_kit()
    # A terminal's Ctrl-C: pytest-xdist's workers ignore SIGINT, and a child would inherit that.
    proc = subprocess.Popen([sys.executable, "-m", "kit", "preview", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        ready, _, _ = select.select([proc.stdout], [], [], PATIENCE)
        assert ready, "kit preview printed nothing"
        line = proc.stdout.readline()
        assert line.startswith("Previewing ") and "http://127.0.0.1:" in line
        url = line.split(" at ", 1)[1].split()[0]
        conn = http.client.HTTPConnection(url.split("//")[1].rstrip("/"), timeout=60)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=PATIENCE)
        assert proc.returncode == 0, err
        assert "stopped" in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- end to end in headless Chromium ----------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the file's browser tests; each test opens its own tabs."""
    running = Browser(tmp_path_factory.mktemp("chromium") / "profile")
    yield running
    running.close()


def dump_dom(browser: Browser, url: str) -> str:
    """The page's DOM once it has loaded, as `chromium --dump-dom` prints it."""
    tab = browser.load(url)
    try:
        return browser.dom(tab)
    finally:
        browser.close_tab(tab)


@needs_chromium
def test_chromium_shows_the_session_guide_and_a_worksheet_without_facilitator_material(server, browser):
    dom = dump_dom(browser, server.url + GUIDE.lstrip("/"))
    assert "Fixture Session" in dom and "FAC-ANECDOTE-TITLE" in dom
    dom = dump_dom(browser, server.url + SHEET.lstrip("/"))
    assert "PART-PROMPT-TEXT" in dom and "FAC-" not in dom


@needs_chromium
def test_chromium_reloads_the_page_when_the_module_changes(make_kit, browser):
    """A real browser keeps the page open; after an edit its script reloads the page.

    The server's request log shows what the browser does: it loads the page, long-polls
    /__reload from that page's generation, loads the page again after the edit, and then
    polls from the new generation, which only the new page carries.
    """
    root = make_kit()
    requests: list[str] = []
    seen = threading.Condition()

    def log(line: str) -> None:
        with seen:
            requests.append(line)
            seen.notify_all()

    def wait_for(predicate, what: str) -> None:
        with seen:
            assert seen.wait_for(lambda: predicate(list(requests)), timeout=PATIENCE), \
                f"gave up waiting for {what}; the browser asked for {requests}"

    with PreviewServer(root, port=0, log=log) as server:
        first = reload_state(server)["generation"]
        url = server.url + GUIDE.lstrip("/")
        tab = browser.open(url)
        try:
            wait_for(lambda r: f"GET /__reload?since={first}&" in " ".join(r), "the page's first poll")
            loads = sum(line == f"GET {GUIDE}" for line in requests)
            (root / "content/fixture/01-fixture.md").write_text(
                MODULE.replace("title: Fixture Session", "title: Reloaded Session"))
            wait_for(lambda r: sum(line == f"GET {GUIDE}" for line in r) > loads, "the browser to reload")
            wait_for(lambda r: any(line.startswith("GET /__reload?since=") and f"since={first}&" not in line
                                   for line in r), "the reloaded page's poll")
        finally:
            browser.close_tab(tab)
        # What the browser was given on reload: the new title.
        assert "Reloaded Session" in get(server, GUIDE)[1]
        dom = dump_dom(browser, url)
        assert "Reloaded Session" in dom and "Fixture Session" not in dom
