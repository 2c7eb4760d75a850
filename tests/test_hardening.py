"""Hostile and broken input: nothing read outside the kit, nothing fetched, no traceback.

The corpus in tests/hostile/ holds the modules; each says what it must produce
(see tests/hostile/README.md). A local HTTP listener started here records every
connection, so that a test can show no request left the build.
"""
from __future__ import annotations

import http.server
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kit.build import BuildOptions, build
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit

from conftest import COURSE_YAML, MODULE, module, tiny_kit, write_kit
from kits import TINY_KIT
from pdftext import all_text, labelled_texts

HOSTILE = Path(__file__).parent / "hostile"
CORPUS = sorted(p for p in HOSTILE.iterdir() if p.suffix in (".md", ".yaml") and p.name != "README.md")
EXPECT_RE = re.compile(r"expect:\s*(?:(error|warning)\s+(\d+):\s*(.*?)\s*(?:-->)?\s*$|(clean)\s*$)")


# --- a local listener that records every connection --------------------------------

class Listener(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    def verify_request(self, request, client_address) -> bool:
        self.seen.append(f"connection from {client_address}")  # before any byte is read
        return True


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.server.seen.append(f"GET {self.path}")
        body = b"body { background: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    # A short poll: shutdown() waits for the loop to look again (the default half a second).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def quiet_listener(listener):
    """The listener, checked after the test: no connection may have reached it."""
    listener.seen.clear()
    yield listener
    assert listener.seen == [], "a request reached the local listener"


def test_the_listener_does_record_requests(listener):
    """The control: without the kit in the way, a request is seen."""
    listener.seen.clear()
    with urllib.request.urlopen(f"{listener.url}/control") as response:
        assert response.status == 200
    assert "GET /control" in listener.seen
    listener.seen.clear()


# --- the corpus -----------------------------------------------------------------

def corpus_file(path: Path, port: int) -> tuple[str, bytes, list[tuple[str, int, str]]]:
    """(where it goes in the kit, its bytes with the port filled in, what it must produce)."""
    data = path.read_bytes().replace(b"@PORT@", str(port).encode())
    expected = []
    for line in data.decode("utf-8", "replace").splitlines():
        match = EXPECT_RE.search(line)
        if match and match.group(4):
            expected.append(("clean", 0, ""))
        elif match:
            expected.append((match.group(1), int(match.group(2)), match.group(3)))
    assert expected, f"{path.name} says nothing about what it must produce"
    if path.name.startswith("course-"):
        target = "content/fixture/course.yaml"
    elif path.name.startswith("intro-"):
        target = "content/fixture/introduction.md"
    else:
        target = "content/fixture/01-fixture.md"
    return target, data, expected


# More than the corpus file in its kit: template-injection.md's kit has template syntax in
# course.yaml's title too (test_template_syntax_* read the PDFs its build makes).
CORPUS_KIT_EXTRA = {"template-injection.md": {
    "content/fixture/course.yaml": COURSE_YAML.replace("title: Fixture Course", 'title: "Course {{ 3*3 }}"')}}


def corpus_kit(root: Path, path: Path, port: int):
    """The file in a kit that is otherwise the smallest valid one (its one session tiny)."""
    target, data, expected = corpus_file(path, port)
    return tiny_kit(root, {**CORPUS_KIT_EXTRA.get(path.name, {}), target: data}), target, expected


def unmatched(expected, problems, severity):
    """Expected problems of `severity` not found, and found ones not expected."""
    wanted = [(line, text) for sev, line, text in expected if sev == severity]
    found = [p for p in problems if p.severity == severity]
    missing = []
    for line, text in wanted:
        hit = next((p for p in found if p.line == line and text in p.message), None)
        if hit is None:
            missing.append(f"{line}: {text}")
        else:
            found.remove(hit)
    return missing, [p.format() for p in found]


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_file_gives_exactly_its_expected_problems(path, tmp_path, quiet_listener):
    root, target, expected = corpus_kit(tmp_path / "kit", path, quiet_listener.server_address[1])
    loaded = load_kit(root)
    problems = loaded.problems.items
    assert all(p.path == target for p in problems), [p.format() for p in problems]
    missing, extra = unmatched(expected, problems, "error")
    assert missing == [] and extra == [], f"missing: {missing}; not expected: {extra}"
    missing_warnings, extra_warnings = unmatched(expected, problems, "warning")
    assert missing_warnings == []
    if ("clean", 0, "") in expected:
        assert problems == []
    if not any(sev == "error" for sev, _, _ in expected):
        assert loaded.kit.courses[0].sessions, "a module without errors loads into the model"


@dataclass
class CliRun:
    target: str                 # where the corpus file is in the kit
    expected: list              # what it must produce, as corpus_file reads it
    check: Result               # `kit check KIT`
    build: Result               # `kit build KIT -o OUT -j 1`
    out: Path
    seen: list[str]             # what reached the listener while the two ran


@pytest.fixture(scope="module")
def corpus_cli(tmp_path_factory, listener):
    """`run(path)`: `kit check` and `kit build` of a corpus file's kit, run once in this
    module; the test of the command line and the tests that read the PDFs share them."""
    runs: dict[Path, CliRun] = {}

    def run(path: Path) -> CliRun:
        if path not in runs:
            where = tmp_path_factory.mktemp(path.stem)
            root, target, expected = corpus_kit(where / "kit", path, listener.server_address[1])
            start = len(listener.seen)
            runner = CliRunner()
            check = runner.invoke(main, ["check", str(root)])
            build_run = runner.invoke(main, ["build", str(root), "-o", str(where / "out"), "-j", "1"])
            runs[path] = CliRun(target, expected, check, build_run, where / "out", listener.seen[start:])
        return runs[path]
    return run


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_corpus_through_the_command_line(path, corpus_cli, quiet_listener):
    """`kit check` and `kit build` end with path:line messages and a status; never a traceback."""
    run = corpus_cli(path)
    target, expected, check, build_run = run.target, run.expected, run.check, run.build
    assert run.seen == [], "a request reached the local listener"
    has_errors = any(sev == "error" for sev, _, _ in expected)
    for result in (check, build_run):
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.output
        assert result.exit_code == (1 if has_errors else 0), result.output
    for severity, line, text in expected:
        if severity != "clean":
            assert re.search(rf"^{re.escape(target)}:{line}: {severity}: .*{re.escape(text)}",
                             check.stdout, re.M), check.stdout
    if has_errors:
        first_error = next((line, text) for sev, line, text in expected if sev == "error")
        assert f"{target}:{first_error[0]}: " in build_run.output
        assert not run.out.exists(), "nothing is written when a module has an error"
    else:
        assert (run.out / "fixture/facilitator-guide.pdf").is_file()


# --- what the sanitiser drops never reaches a PDF -----------------------------------

def test_dropped_html_is_absent_from_the_guide_and_nothing_was_fetched(corpus_cli, quiet_listener):
    """Each file's build (shared with test_corpus_through_the_command_line) has its guide."""
    guides = {}
    for name in ("html-dropped.md", "css-smuggled.md"):
        run = corpus_cli(HOSTILE / name)
        assert run.seen == [] and run.build.exit_code == 0, run.build.output
        guides[name] = all_text(run.out / "fixture/facilitator-guide.pdf")
    assert "Click" in guides["html-dropped.md"] and "STYLED-SPAN" in guides["css-smuggled.md"]  # the text is kept ...
    for name, guide in guides.items():
        for marker in ("SCRIPT-RAN", "IFRAME-TEXT", "OBJECT-TEXT", "@import", "background"):
            assert marker not in guide, name  # ... what the sanitiser drops is not
    assert "content/fixture/01-fixture.md:17: warning: raw HTML <script> is removed" \
        in corpus_cli(HOSTILE / "html-dropped.md").build.stderr  # a warning of the build


# --- template injection -------------------------------------------------------------

@pytest.fixture(scope="module")
def injected(corpus_cli):
    """The template-injection module (and a course title with template syntax, CORPUS_KIT_EXTRA)
    in the tiny kit, built by `kit build`: the build test_corpus_through_the_command_line made."""
    run = corpus_cli(HOSTILE / "template-injection.md")
    assert run.build.exit_code == 0, run.build.output
    out = run.out
    return {"guide": all_text(out / "fixture/facilitator-guide.pdf"),  # read once for all the tests
            "sheets": all_text(out / "fixture/participant-worksheets.pdf")}


@pytest.mark.parametrize("literal", [
    "Jinja {{ 7*7 }} in the title",                        # front matter title
    "{% for x in range(3) %}LOOP{% endfor %}",              # an objective
    "{{ self.__init__.__globals__ }} in the overview",      # the overview
    "Segment {{ 6*7 }}",                                    # a segment heading
    "{{ config }}",                                         # an anecdote's title
    "{{ lipsum.globals.os.popen('id').read() }}",           # an anecdote's point
    "{% raw %}raw{% endraw %}",                             # an anecdote's source
    "{# a comment #}",                                      # an anecdote's retell
    "{{ cycler.next.globals.os.environ }}",                 # an anecdote's story
    "{{ 8*8 }}", "{{ 9*9 }}",                               # a pair's roles
    "{{ 5*5 }}",                                            # a pair's debrief
    "{% include 'base.css' %}",                             # a pair's instructions
    "Course {{ 3*3 }}",                                     # course.yaml's title
])
def test_template_syntax_in_any_field_is_printed_literally(injected, literal):
    assert literal in injected["guide"]


def test_template_syntax_is_never_evaluated(injected):
    guide, sheets = injected["guide"], injected["sheets"]
    for evaluated in ("LOOPLOOP", "uid=", " 64 ", " 81 ", " 25 ", "Course 9", "Segment 42"):
        assert evaluated not in guide and evaluated not in sheets
    for literal in ("{{ 8*8 }}", "{{ 9*9 }}", "{{ 5*5 }}"):
        assert literal in sheets  # the pair activity is on the worksheet too


# --- the fetcher: unit ------------------------------------------------------------

@pytest.fixture
def fetch_root(tmp_path):
    content = tmp_path / "kit/content"
    (content / "fixture").mkdir(parents=True)
    (content / "fixture/pic.png").write_bytes(b"\x89PNG inside")
    (content / "fixture/folder").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    (content / "fixture/leak.png").symlink_to(secret)
    (content / "fixture/inner.png").symlink_to(content / "fixture/pic.png")
    (content / "fixture/zero.png").symlink_to("/dev/zero")
    os.mkfifo(content / "fixture/pipe.png")
    with open(content / "fixture/huge.woff2", "wb") as huge:  # 2 GiB, sparse: costs no disk
        huge.truncate(2 << 30)
    return content


@pytest.mark.parametrize("url, why", [
    ("{listener}/x.png", "only files inside the kit"),
    ("{listener_s}/x.png", "only files inside the kit"),
    ("ftp://127.0.0.1/x.png", "only files inside the kit"),
    ("gopher://127.0.0.1/x", "only files inside the kit"),
    ("file://127.0.0.1{content}/fixture/pic.png", "on another host"),
    ("file://fileserver/share/x.png", "on another host"),
    ("file:///etc/passwd", "outside the kit"),
    ("file:///dev/zero", "outside the kit"),
    ("file:///dev/stdin", "outside the kit"),
    ("file:///proc/self/environ", "outside the kit"),
    ("file://{content}/fixture/../../secret.txt", "outside the kit"),
    ("file://{content}/fixture/%2e%2e/%2e%2e/secret.txt", "outside the kit"),
    ("file://{content}/fixture/leak.png", "outside the kit"),
    ("file://{content}/fixture/zero.png", "outside the kit"),
    ("file://{content}/fixture/missing.png", "missing resource"),
    ("file://{content}/fixture/folder", "not a regular file"),
    ("file://{content}/fixture/pipe.png", "not a regular file"),
    ("file://{content}/fixture/huge.woff2", "larger than 67,108,864 bytes (2,147,483,648)"),
    ("file:relative/pic.png", "refused resource"),
    ("file://{content}/fixture/a%00b.png", "refused resource"),
    ("data:image/png;base64,!!!not-base64", "refused resource"),
])
def test_fetcher_refuses(fetch_root, quiet_listener, url, why):
    from kit.pdf import KitFetcher, RefusedResource

    fetcher = KitFetcher([fetch_root])
    url = url.format(listener=quiet_listener.url, listener_s=quiet_listener.url.replace("http:", "https:"),
                     content=fetch_root)
    with pytest.raises(RefusedResource) as err:
        fetcher.fetch(url)
    assert why in str(err.value)
    assert "SECRET" not in str(err.value)


def test_fetcher_serves_files_inside_its_roots_and_data_urls(fetch_root):
    from kit.pdf import KitFetcher

    fetcher = KitFetcher([fetch_root])
    for name in ("pic.png", "inner.png"):  # a link that stays inside is fine
        response = fetcher.fetch((fetch_root / "fixture" / name).as_uri())
        assert response.read() == b"\x89PNG inside" and response.content_type == "image/png"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_fetcher_is_what_weasyprint_calls_and_refusal_stops_rendering(fetch_root, quiet_listener):
    """Images, stylesheets, fonts, objects and attachments all go through it."""
    from kit.pdf import RefusedResource, render_pdf

    base = (fetch_root / "fixture").as_uri() + "/"
    url = quiet_listener.url
    for html in (f'<img src="{url}/img.png">',
                 f'<a rel="attachment" href="{url}/attachment">file</a>',
                 '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
                 f'<link rel="attachment" href="{url}/link-attachment">',
                 f'<link rel="stylesheet" href="{url}/style.css">',
                 f'<style>@import url("{url}/import.css");</style>',
                 f'<p style="background: url({url}/bg.png)">x</p>',
                 f'<style>@font-face {{ font-family: F; src: url({url}/f.woff) }} p {{ font-family: F }}</style>'
                 '<p>x</p>',
                 f'<object data="{url}/object"></object>',
                 '<img src="leak.png">',
                 '<img src="../../../secret.txt">'):
        with pytest.raises(RefusedResource):
            render_pdf(html, "", base, [fetch_root], "test")
    with pytest.raises(RefusedResource):
        render_pdf("<p>x</p>", f'@import url("{url}/css-import.css");', base, [fetch_root], "test")
    assert render_pdf('<img src="pic.png" alt="x"><p>ok</p>', "", base, [fetch_root], "test").pages == 1


# --- the fetcher: end to end, through a kit's own templates ---------------------------

def test_kit_stylesheet_that_imports_from_the_network_stops_the_build(tmp_path, quiet_listener):
    root = write_kit(tmp_path / "kit", {
        "templates/guide.css": f'@import url("{quiet_listener.url}/guide.css");\n'  # ignored: not first
                               f'body {{ background: url({quiet_listener.url}/bg.png) }}\n'})
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert "refused resource" in result.output and quiet_listener.url in result.output
    assert not list((tmp_path / "out").rglob("*guide.pdf"))


# --- images named by a module ----------------------------------------------------------

def test_images_inside_the_course_folder_are_fine(make_kit):
    body = ("## A {minutes=10 kind=recap}\n\n![a chart](pictures/chart.png)\n\n"
            '<img src="pictures/chart.png" alt="again">\n\n![linked](link.png)\n')
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body),
                     "content/fixture/pictures/chart.png": b"\x89PNG"})
    (root / "content/fixture/link.png").symlink_to(root / "content/fixture/pictures/chart.png")
    assert load_kit(root).problems.items == []


def test_image_symlink_out_of_the_kit_is_an_error_at_its_line(make_kit, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"SECRET")
    body = "## A {minutes=10 kind=recap}\n\nText.\n\n![innocent](innocent.png)\n"
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    (root / "content/fixture/innocent.png").symlink_to(secret)
    assert [p.format() for p in load_kit(root).problems.errors] == [
        "content/fixture/01-fixture.md:9: image 'innocent.png' lies outside the kit (after following "
        "'..' and links); keep images in the course folder"]


def test_image_inside_the_kit_but_outside_content_is_an_error(make_kit):
    body = "## A {minutes=10 kind=recap}\n\n![logo](../../assets/logo.png)\n"
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body),
                     "assets/logo.png": b"\x89PNG"})
    (err,) = [p.format() for p in load_kit(root).problems.errors]
    assert err.startswith("content/fixture/01-fixture.md:7: image '../../assets/logo.png' lies outside "
                          "the kit's content/ and templates/ folders")


def test_image_in_the_introduction_is_checked(make_kit):
    root = make_kit({"content/fixture/introduction.md": "# How to run it\n\nSee\n![x](http://example.org/x.png)\n"})
    (err,) = [p.format() for p in load_kit(root).problems.errors]
    assert err.startswith("content/fixture/introduction.md:4: image 'http://example.org/x.png' is on the web")


# --- no read outside the kit -------------------------------------------------------------

class FifoWatch:
    """A named pipe that records whether anyone opened it for reading (without blocking them)."""

    def __init__(self, path: Path):
        self.path = path
        os.mkfifo(path)
        self.read = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)  # succeeds only with a reader
            except OSError:
                self.stop.wait(0.01)
                continue
            self.read = True
            os.write(fd, b"READ")
            os.close(fd)

    def close(self) -> bool:
        self.stop.set()
        self.thread.join()
        return self.read


def test_module_that_links_outside_the_kit_is_not_read(make_kit, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text(MODULE.replace("Fixture Session", "OUTSIDE-TITLE"))
    root = make_kit()
    (root / "content/fixture/02-linked.md").symlink_to(outside)
    loaded = load_kit(root)
    assert [p.format() for p in loaded.problems.errors] == [
        "content/fixture/02-linked.md:1: the file links to a place outside the kit; it is not read"]
    assert [s.title for s in loaded.kit.courses[0].sessions] == ["Fixture Session"]


def test_module_that_is_a_pipe_is_refused_without_reading(make_kit):
    root = make_kit()
    watch = FifoWatch(root / "content/fixture/02-pipe.md")
    loaded = load_kit(root)
    assert watch.close() is False
    assert [p.format() for p in loaded.problems.errors] == [
        "content/fixture/02-pipe.md:1: not a regular file; it is not read"]


def test_course_folder_linked_outside_the_kit_is_not_read(tmp_path):
    elsewhere = write_kit(tmp_path / "elsewhere")
    watch = FifoWatch(elsewhere / "content/fixture/02-pipe.md")
    root = write_kit(tmp_path / "kit")
    (root / "content/linked").symlink_to(elsewhere / "content/fixture")
    loaded = load_kit(root)
    assert watch.close() is False
    assert [p.format() for p in loaded.problems.errors] == [
        "content/linked:1: the course folder links to a place outside the kit; it is not read"]
    assert [c.slug for c in loaded.kit.courses] == ["fixture"]


def test_content_or_templates_linked_outside_the_kit_stop_everything(tmp_path):
    elsewhere = write_kit(tmp_path / "elsewhere")
    root = tmp_path / "kit"
    root.mkdir()
    (root / "content").symlink_to(elsewhere / "content")
    loaded = load_kit(root)
    assert [p.format() for p in loaded.problems.errors] == [
        "content:1: content/ links to a place outside the kit; it is not read"]
    assert loaded.kit.courses == ()
    root2 = write_kit(tmp_path / "kit2")
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme/guide.css").write_text("body { color: red }")
    (root2 / "templates").mkdir()
    (root2 / "templates/guide.css").symlink_to(tmp_path / "theme/guide.css")
    assert [p.format() for p in load_kit(root2).problems.errors] == [
        "templates/guide.css:1: the file links to a place outside the kit; it is not read"]
    result = CliRunner().invoke(main, ["build", str(root2), "-o", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1 and "templates/guide.css:1: the file links to a place outside" in result.output


def test_introduction_linked_outside_is_not_read(make_kit, tmp_path):
    (tmp_path / "intro.md").write_text("OUTSIDE")
    root = make_kit()
    (root / "content/fixture/introduction.md").symlink_to(tmp_path / "intro.md")
    loaded = load_kit(root)
    assert [p.format() for p in loaded.problems.errors] == [
        "content/fixture/introduction.md:1: the file links to a place outside the kit; it is not read"]


# --- size and encoding ---------------------------------------------------------------

def test_module_over_one_mebibyte_is_an_error_and_is_not_read_whole(make_kit):
    big = module("title: Big\nminutes: 10", "## A {minutes=10 kind=recap}\n\n" + "x" * (1024 * 1024) + "\n")
    root = make_kit({"content/fixture/01-fixture.md": big})
    assert [p.format() for p in load_kit(root).problems.errors] == [
        f"content/fixture/01-fixture.md:1: file is larger than 1 MiB ({len(big.encode()):,} bytes)"]


def test_module_of_exactly_one_mebibyte_is_read(make_kit):
    head = module("title: Big\nminutes: 10", "## A {minutes=10 kind=recap}\n\n")
    text = head + "x" * (1024 * 1024 - len(head) - 1) + "\n"
    assert len(text.encode()) == 1024 * 1024
    root = make_kit({"content/fixture/01-fixture.md": text})
    assert load_kit(root).problems.errors == []


# --- nothing lost: a build killed mid-render or mid-write ------------------------------

def doomed_build(marker: Path, mode: str, argv: list[str]) -> None:
    """`kit build` (argv), stopped where `mode` says; run in a process of its own, to be killed."""
    import kit.build
    import kit.engine

    if mode == "render":
        # Park inside the second document's rendering: the first is rendered and cached.
        render_job, calls = kit.engine.render_job, []

        def parked(job):
            calls.append(job.key)
            if len(calls) == 2:
                marker.write_text(job.key)
                while True:
                    signal.pause()
            return render_job(job)
        kit.engine.render_job = parked
    else:
        # Die when every output is staged as a temporary file and none is renamed yet.
        write = kit.build.write_atomically

        def dying(files, out):
            def replace(src, dst):
                marker.write_text(str(src))
                os.kill(os.getpid(), signal.SIGKILL)
            os.replace = replace
            return write(files, out)
        kit.build.write_atomically = dying
    main(argv)


def fork_doomed_build(marker: Path, mode: str, argv: list[str], log: Path) -> int:
    """Start doomed_build in a forked child, a process group of its own writing to `log`;
    return its pid. (Forked, it has kit and WeasyPrint imported already, which a fresh
    interpreter spends a second or two on.) The child never returns into the tests."""
    pid = os.fork()
    if pid:
        return pid
    try:  # the child
        os.setsid()
        stream = open(log, "w", buffering=1)
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
        sys.stdout = sys.stderr = stream
        doomed_build(marker, mode, argv)
    except BaseException:  # noqa: BLE001 - SystemExit from the command line too: the child ends here
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        os._exit(1)


@pytest.fixture(scope="module")
def earlier(shared_builds):
    """A kit and its outputs from a successful build (TINY_KIT, its one session tiny: what is on
    the pages does not matter here, only which files are there). Shared: tests copy it."""
    root, out, _ = shared_builds.get(TINY_KIT)
    return root, out


def outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".kit-cache" not in p.parts}


def kill_a_build(earlier, tmp_path, mode):
    root, out = (tmp_path / "kit", tmp_path / "build")
    shutil.copytree(earlier[0], root, symlinks=True)
    shutil.copytree(earlier[1], out, symlinks=True)
    before = outputs(out)
    module_file = root / "content/fixture/01-fixture.md"  # the session's guide and the cover change
    text = module_file.read_text()
    assert "Text." in text, "TINY_MODULE changed: edit something else in its guide"
    module_file.write_text(text.replace("Text.", "EDITED-TEXT told again."))
    marker, log = tmp_path / "marker", tmp_path / "log"
    pid = fork_doomed_build(marker, mode, ["build", str(root), "-o", str(out), "-j", "1"], log)
    deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
    ended, status = os.waitpid(pid, os.WNOHANG)
    while not marker.exists() and not ended and time.monotonic() < deadline:
        time.sleep(0.02)
        ended, status = os.waitpid(pid, os.WNOHANG)
    if not ended:
        os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    output = log.read_text()
    assert marker.exists(), output
    assert os.waitstatus_to_exitcode(status) == -signal.SIGKILL, output
    return root, out, before


@pytest.mark.parametrize("mode", ["render", "write"])
def test_killed_build_leaves_earlier_pdfs_intact_and_the_next_build_cleans_up(earlier, tmp_path, mode):
    root, out, before = kill_a_build(earlier, tmp_path, mode)
    after = outputs(out)
    stray = sorted(name for name in after if name not in before)
    assert {name: after[name] for name in before} == before  # every earlier PDF, byte for byte
    if mode == "render":
        assert stray == []
    else:  # every output was staged beside its PDF, under a hidden temporary name
        assert stray and all(re.fullmatch(r"(.*/)?\.[\w.-]+\.pdf\.kit-\w{8}\.tmp", name) for name in stray), stray
    result = build(root, BuildOptions(out=out, jobs=1))
    final = outputs(out)
    assert sorted(final) == sorted(before), "the next build leaves no temporary file behind"
    assert "EDITED-TEXT told again." in " ".join(
        text for _, text in labelled_texts(out / "fixture/facilitator-guide.pdf", lambda label: label.startswith("1-")))
    assert len(result.written) == len(before)


def test_failed_render_keeps_earlier_outputs(earlier, tmp_path):
    root, out = (tmp_path / "kit", tmp_path / "build")
    shutil.copytree(earlier[0], root, symlinks=True)
    shutil.copytree(earlier[1], out, symlinks=True)
    before = outputs(out)
    (root / "templates").mkdir()
    (root / "templates/worksheet.css").write_text("body { background: url(https://example.org/x.png) }\n")
    with pytest.raises(KitError) as err:
        build(root, BuildOptions(out=out, jobs=1))
    assert "refused resource" in str(err.value)
    assert outputs(out) == before


# --- what is opened: an audit hook records every file the process opens --------------

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # cheap while _OPENED is None; audit hooks cannot be removed


def opened_during(func, *args, **kwargs) -> list[Path]:
    global _OPENED
    _OPENED = []
    try:
        func(*args, **kwargs)
    except KitError:
        pass
    finally:
        opened, _OPENED = _OPENED, None
    return [Path(p).resolve() for p in opened]


@pytest.fixture
def kit_with_links_out(tmp_path):
    """A kit whose course folder holds links to a secret outside it, one named by a module."""
    secret = tmp_path / "outside/secret.png"
    secret.parent.mkdir()
    secret.write_bytes(b"\x89PNG SECRET")
    body = "## A {minutes=10 kind=recap}\n\n![photo](photo.png)\n"
    root = write_kit(tmp_path / "kit", {"content/fixture/02-photo.md": module("title: P\nminutes: 10", body)})
    (root / "content/fixture/photo.png").symlink_to(secret)
    (root / "content/fixture/unused.png").symlink_to(secret)
    return root, secret.resolve()


def test_the_audit_hook_sees_opened_files(tmp_path):
    """The control: a file that is read shows up."""
    (tmp_path / "seen.txt").write_text("x")
    assert (tmp_path / "seen.txt").resolve() in opened_during((tmp_path / "seen.txt").read_text)


def test_check_opens_no_file_outside_the_kit(kit_with_links_out):
    from kit.check import check_kit_dir

    root, secret = kit_with_links_out
    opened = opened_during(check_kit_dir, root)
    assert opened, "the kit's own files were opened"
    assert secret not in opened


def test_build_opens_no_file_outside_the_kit(kit_with_links_out, tmp_path):
    root, secret = kit_with_links_out
    opened = opened_during(build, root, BuildOptions(out=tmp_path / "out", jobs=1))
    assert secret not in opened


# --- where a build may write ------------------------------------------------------------

@pytest.mark.parametrize("where", ["templates/out", "content", "content/fixture/pdf", "link-into-content"])
def test_build_refuses_to_write_into_content_or_templates(tmp_path, where):
    root = write_kit(tmp_path / "kit", {"templates/guide.css": "/* the kit's own */\n"})
    (tmp_path / "link-into-content").symlink_to(root / "content/fixture")
    out = tmp_path / where if where.startswith("link") else root / where
    before = sorted(p for p in root.rglob("*"))
    with pytest.raises(KitError) as err:
        build(root, BuildOptions(out=out, jobs=1))
    assert "the output folder is inside the kit's" in str(err.value)
    assert sorted(p for p in root.rglob("*")) == before


# --- lint over images and links ----------------------------------------------------------

def test_check_warns_about_images_without_alt_and_plain_http_links(tmp_path):
    body = ("## A {minutes=10 kind=recap}\n\n::: note\n![](pic.png) and <img src=\"pic.png\">.\n\n"
            "A [page](http://example.org/page), a [safe one](https://example.org/), "
            "[mail](mailto:a@example.org) and <http://example.org/auto>.\n:::\n")
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body),
                                        "content/fixture/pic.png": b"\x89PNG"})
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 0, result.output
    found = [line for line in result.stdout.splitlines() if ":7: warning: " in line]
    assert sorted(line.split("warning: ")[1] for line in found) == [
        "an <img> has no alt text",
        "an image has no alt text: write it between the brackets ![...](...)",
        "link is not https: http://example.org/auto",
        "link is not https: http://example.org/page"]


def test_fetcher_follows_no_redirects():
    import urllib.request as request

    from kit.pdf import KitFetcher

    fetcher = KitFetcher([Path("/nonexistent")])
    assert not any(isinstance(h, request.HTTPRedirectHandler) for h in fetcher.handlers)


def test_organisation_profile_with_a_python_tag_is_a_clean_error(tmp_path):
    root = write_kit(tmp_path / "kit")
    profile = tmp_path / "org.yaml"
    profile.write_text("name: Evil\nabout: !!python/object/apply:os.system ['touch /tmp/kit-pwned']\n")
    for command in (["check", str(root), "--org", str(profile)],
                    ["build", str(root), "--org", str(profile), "-o", str(tmp_path / "out"), "-j", "1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert "org.yaml:2:" in result.output and "YAML tag '!!python/object/apply:os.system' is not allowed" \
            in result.output
