"""`kit preview`: the guide and the worksheets as HTML on localhost, reloaded on every edit.

The pages are the very HTML a build hands to the PDF engine (the same `Planner`,
so a worksheet page never holds facilitator material), with the print CSS inlined
and a small screen stylesheet that lays each document out as a sheet of paper.

A background thread watches the kit's content/ and templates/ with watchfiles and
bumps a generation counter on every change; the model is loaded again lazily, on
the next request after a change. Each page carries a tiny script that long-polls
`/__reload?since=N` and reloads the page when the generation moves on.

When the content has errors, every page shows them as `path:line: message`
lines instead; the page reloads (and recovers) when they are fixed.

Resources (images, stylesheets) are served from `/__files/`, and only when they
resolve inside the kit's content/ or templates/ folder: everything else is a 404.
The server listens on 127.0.0.1 only, and answers only requests addressed to this
machine by name (`Host: 127.0.0.1`, `localhost` or `[::1]`, with or without the
server's port): a page of another site whose name was made to point at 127.0.0.1
(DNS rebinding) gets an empty 421. No WeasyPrint here; nothing is printed.
"""
from __future__ import annotations

import html
import json
import mimetypes
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlsplit

from kit import model as m
from kit.errors import KitError, Problem
from kit.loader import RESOURCE_FOLDERS
from kit.safefs import inside, open_regular

# A file the preview serves (an image, a stylesheet): at most what the PDF engine reads.
MAX_SERVED_BYTES = 64 << 20

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
FILES = "/__files/"           # resources: /__files/content/<course>/img.png, /__files/templates/...
RELOAD = "/__reload"          # long poll: {"generation": N, "instance": "..."}
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")  # the Host headers answered
LONG_POLL_SECONDS = 20.0      # how long /__reload?since=N waits for a change before answering
WATCH_DEBOUNCE_MS = 800       # watchfiles groups a burst of saves into one change


# --- the pages: pure functions of the model and the planner ------------------------------

SCREEN_CSS = """\
@media screen {
  html { background: #d8d8d4; }
  body.kit-preview { margin: 0; padding: 3.2rem 1rem 2rem; }
  .kit-sheet { box-sizing: border-box; max-width: 210mm; margin: 0 auto 1.5rem; padding: 17mm 19mm;
               background: #fff; box-shadow: 0 1px 4px rgba(0, 0, 0, .28); }
  .kit-sheet .cover { position: relative; min-height: 230mm; margin-bottom: 10mm; }
  .kit-sheet .session + .session, .kit-sheet .cover + * { border-top: 1px dashed #bbb; padding-top: 6mm; }
  .kit-bar { position: fixed; top: 0; left: 0; right: 0; z-index: 10; display: flex; gap: 1.2em;
             align-items: center; padding: .55rem 1rem; background: #1a1a1a; color: #eee;
             font: 500 13px/1.3 "Inter", "DejaVu Sans", sans-serif; }
  .kit-bar a { color: #fff; text-decoration: underline; }
  .kit-bar .kit-bar-note { margin-left: auto; color: #aaa; }
  .kit-index, .kit-errors { max-width: 60rem; margin: 0 auto; background: #fff; padding: 1.5rem 2rem;
                            box-shadow: 0 1px 4px rgba(0, 0, 0, .28);
                            font: 15px/1.5 "Inter", "DejaVu Sans", sans-serif; }
  .kit-index table { border-collapse: collapse; width: 100%; }
  .kit-index td, .kit-index th { text-align: left; padding: .3em .6em; border-bottom: 1px solid #ddd; }
  .kit-errors pre { white-space: pre-wrap; background: #fff4f4; border-left: 4px solid #b00020;
                    padding: .8em 1em; font: 14px/1.5 "DejaVu Sans Mono", monospace; }
  .kit-warnings pre { background: #fffbe6; border-left-color: #b58900; }
}
@media print { .kit-bar { display: none; } }
"""

# Reloads the page when the server's generation moves on; retries quietly while the
# server is down, and reloads when a new server (another instance) answers.
RELOAD_SCRIPT = """\
<script>
(function () {
  var generation = %d, instance = "%s";
  function poll() {
    fetch("/__reload?since=" + generation + "&instance=" + instance, {cache: "no-store"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.generation !== generation || d.instance !== instance) { location.reload(); }
        else { poll(); }
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
</script>
"""

HEAD_RE = re.compile(r"<head\b[^>]*>(.*?)</head\s*>", re.S | re.I)
SAME_PAGE = 'href="#'  # an in-page link, as the templates and the Markdown sanitiser write it
BODY_RE = re.compile(r"<body\b([^>]*)>(.*)</body\s*>", re.S | re.I)
CLASS_RE = re.compile(r"""\bclass\s*=\s*["']([^"']*)["']""", re.I)
LANG_RE = re.compile(r"""<html\b[^>]*\blang\s*=\s*["']([^"']*)["']""", re.I)


@dataclass(frozen=True)
class Parts:
    """A rendered document taken apart, so that several can share one page."""
    lang: str
    head: str          # the inside of <head>
    body_class: str
    body: str          # the inside of <body>


def split_document(document: str) -> Parts:
    lang = LANG_RE.search(document)
    head = HEAD_RE.search(document)
    body = BODY_RE.search(document)
    body_class = CLASS_RE.search(body.group(1)) if body else None
    return Parts(lang.group(1) if lang else "en", head.group(1) if head else "",
                 body_class.group(1) if body_class else "",
                 body.group(2) if body else document)


def _bar(links: list[tuple[str, str]], note: str = "") -> str:
    items = " ".join(f'<a href="{html.escape(href)}">{html.escape(text)}</a>' for href, text in links)
    return f'<nav class="kit-bar">{items}<span class="kit-bar-note">{html.escape(note)}</span></nav>\n'


def _script(generation: int, instance: str) -> str:
    return RELOAD_SCRIPT % (generation, instance)


def page(documents: list[str], css: str, page_path: str, base_href: str, bar: str,
         generation: int, instance: str) -> str:
    """One HTML page holding one or more rendered documents, each laid out as a sheet.

    `<base>` makes the documents' relative resources resolve inside the course folder,
    as they do for the PDF engine; in-page links (`href="#x"`) are pointed back at the
    page itself, since a `<base>` would otherwise send them to the course folder.
    """
    parts = [split_document(d) for d in documents]
    first = parts[0]
    here = f'href="{html.escape(quote(page_path))}#'
    sheets = "".join(f'<div class="kit-sheet {html.escape(p.body_class)}">\n'
                     f"{p.body.replace(SAME_PAGE, here)}\n</div>\n" for p in parts)
    return (f'<!doctype html>\n<html lang="{html.escape(first.lang)}">\n<head>\n{first.head.strip()}\n'
            f'<base href="{html.escape(base_href)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<style>\n{css}</style>\n<style>\n{SCREEN_CSS}</style>\n</head>\n"
            f'<body class="{html.escape(first.body_class)} kit-preview">\n{bar}{sheets}'
            f"{_script(generation, instance)}</body>\n</html>\n")


def problems_page(problems: list[Problem], generation: int, instance: str) -> str:
    """The page every address shows while the kit has errors."""
    errors = [p for p in problems if p.severity == "error"] or problems
    lines = "\n".join(html.escape(p.format()) for p in errors)
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>kit preview: {count}</title>\n<style>\n{SCREEN_CSS}</style>\n</head>\n"
            f'<body class="kit-preview">\n{_bar([("/", "Index")], "the page reloads when the files change")}'
            f'<main class="kit-errors">\n<h1>The kit has {count}</h1>\n'
            f"<p>Fix them and save: this page reloads by itself.</p>\n<pre>{lines}</pre>\n</main>\n"
            f"{_script(generation, instance)}</body>\n</html>\n")


def not_found_page(path: str, generation: int, instance: str) -> str:
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>kit preview: not found</title>\n<style>\n{SCREEN_CSS}</style>\n</head>\n"
            f'<body class="kit-preview">\n{_bar([("/", "Index")])}'
            f'<main class="kit-errors">\n<h1>Not found</h1>\n<p>There is no page '
            f"<code>{html.escape(path)}</code> in this kit. The index lists every page.</p>\n</main>\n"
            f"{_script(generation, instance)}</body>\n</html>\n")


def index_page(kit: m.Kit, warnings: list[Problem], generation: int, instance: str) -> str:
    rows = []
    for course in kit.courses:
        c = quote(course.slug)
        rows.append(f'<h2>{html.escape(course.title)}</h2>\n<p><a href="/{c}/guide.html">Whole facilitator '
                    f'guide</a> · <a href="/{c}/worksheets.html">All participant worksheets</a></p>\n'
                    f"<table>\n<tr><th>Session</th><th>Guide</th><th>Worksheet</th></tr>\n")
        for s in course.sessions:
            stem = quote(s.stem)
            rows.append(f"<tr><td>{s.number}. {html.escape(s.title)}</td>"
                        f'<td><a href="/{c}/guide/{stem}.html">guide</a></td>'
                        f'<td><a href="/{c}/worksheet/{stem}.html">worksheet</a></td></tr>\n')
        rows.append("</table>\n")
    if warnings:
        lines = "\n".join(html.escape(p.format()) for p in warnings)
        rows.append(f'<section class="kit-errors kit-warnings">\n<h2>{len(warnings)} warning'
                    f'{"s" if len(warnings) != 1 else ""}</h2>\n<pre>{lines}</pre>\n</section>\n')
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>kit preview</title>\n<style>\n{SCREEN_CSS}</style>\n</head>\n"
            f'<body class="kit-preview">\n{_bar([("/", "Index")], "the pages reload when the files change")}'
            f'<main class="kit-index">\n<h1>Preview</h1>\n{"".join(rows)}</main>\n'
            f"{_script(generation, instance)}</body>\n</html>\n")


# --- the state: a model loaded lazily, one generation at a time ---------------------------

@dataclass
class Built:
    """The kit as loaded for one generation: either pages can be made, or `errors` says why not."""
    generation: int
    kit: m.Kit | None = None
    planner: Any = None  # a kit.build.Planner, imported only when pages are made
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    pages: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (status, html)


class Preview:
    """Answers page requests for one kit. Thread-safe; the HTTP layer is elsewhere."""

    def __init__(self, kit_root: Path, course: str | None = None, org: Path | None = None,
                 delivery: Path | None = None):
        self.kit_root = Path(kit_root).resolve()
        self.course = course
        self.org = Path(org).resolve() if org else None
        self.delivery = Path(delivery).resolve() if delivery else None
        self.instance = secrets.token_hex(4)
        self._generation = 0
        self._changed = threading.Condition()
        self._lock = threading.Lock()  # loading and rendering share one Markdown converter
        self._built: Built | None = None
        self._extra = self._extra_signature()
        self.closed = False

    # generations

    @property
    def generation(self) -> int:
        self._check_extra_files()
        with self._changed:
            return self._generation

    def bump(self) -> None:
        """Something the pages are made from changed: the next request loads the kit again."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_for_change(self, since: int, timeout: float) -> int:
        """The generation, once it differs from `since` (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._generation == since and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(min(left, 0.5))
                self._check_extra_files()  # the organisation and delivery files are not watched
            return self._generation

    def _extra_signature(self) -> tuple:
        sig: list[object] = []
        for path in (self.org, self.delivery):
            try:
                st = path.stat() if path else None
                sig.append((st.st_mtime_ns, st.st_size, st.st_ino) if st else None)
            except OSError:
                sig.append("missing")
        return tuple(sig)

    def _check_extra_files(self) -> None:
        if self.org is None and self.delivery is None:
            return
        with self._changed:  # a reentrant lock: bump() takes it again
            sig = self._extra_signature()
            if sig != self._extra:
                self._extra = sig
                self.bump()

    def watched_folders(self) -> list[Path]:
        from kit.paths import bundled_templates

        folders = [self.kit_root / name for name in RESOURCE_FOLDERS]
        folders.append(bundled_templates())
        unique = []
        for folder in folders:
            if folder.is_dir() and folder.resolve() not in unique:
                unique.append(folder.resolve())
        return unique

    # the model

    def _load(self, generation: int) -> Built:
        from kit.build import BuildOptions, Planner
        from kit.check import kit_warnings
        from kit.delivery import load_delivery
        from kit.loader import load_kit

        built = Built(generation)
        try:
            loaded = load_kit(self.kit_root, self.course, self.org)
            delivery = load_delivery(self.delivery, loaded.problems) if self.delivery else None
            if loaded.problems.errors:
                built.errors = loaded.problems.errors
                return built
            built.kit = loaded.kit
            built.warnings = kit_warnings(loaded)  # those of `kit check` and `kit build`
            built.planner = Planner(self.kit_root, BuildOptions(out=self.kit_root / "build"), delivery)
        except KitError as error:
            built.errors = list(error.problems)
        return built

    def _current(self) -> Built:
        generation = self.generation
        if self._built is None or self._built.generation != generation:
            self._built = self._load(generation)
        return self._built

    def render(self, path: str) -> tuple[int, str]:
        """The status and HTML of the page at `path` (already percent-decoded)."""
        with self._lock:
            built = self._current()
            if built.errors:
                return 500, problems_page(built.errors, built.generation, self.instance)
            if path not in built.pages:
                try:
                    status, text = self._page(built, path)
                except KitError as error:  # a template error
                    return 500, problems_page(list(error.problems), built.generation, self.instance)
                except Exception as error:  # noqa: BLE001 - shown on the page, never a traceback
                    message = f"the preview could not make this page: {type(error).__name__}: {error}"
                    return 500, problems_page([Problem("", 0, 0, "error", message)],
                                              built.generation, self.instance)
                if status != 200:
                    return status, text
                built.pages[path] = (status, text)
            return built.pages[path]

    def _page(self, built: Built, path: str) -> tuple[int, str]:
        gen, inst = built.generation, self.instance
        assert built.kit is not None  # a Built without errors has its kit
        if path in ("/", "/index.html"):
            return 200, index_page(built.kit, built.warnings, gen, inst)
        parts = path.strip("/").split("/")
        course = next((c for c in built.kit.courses if parts and c.slug == parts[0]), None)
        if course is None:
            return 404, not_found_page(path, gen, inst)
        planner = built.planner
        guide_css = planner.page_css + planner.css["guide.css"]
        sheet_css = planner.page_css + planner.css["worksheet.css"]
        base = FILES + quote(f"content/{course.slug}") + "/"
        home = [("/", "Index")]
        note = f"{course.title} · the page reloads when the files change"
        if parts[1:] == ["guide.html"]:
            docs = [planner.guide_front(course, {}, {}).html, planner.guide_intro(course).html] + [
                planner.guide_session(course, s).html for s in course.sessions]
            bar = _bar(home + [(f"/{quote(course.slug)}/worksheets.html", "Worksheets")], note)
            return 200, page(docs, guide_css, path, base, bar, gen, inst)
        if parts[1:] == ["worksheets.html"]:
            docs = [planner.worksheet_front(course).html] + [
                planner.worksheet_session(course, s).html for s in course.sessions]
            bar = _bar(home + [(f"/{quote(course.slug)}/guide.html", "Guide")], note)
            return 200, page(docs, sheet_css, path, base, bar, gen, inst)
        if len(parts) == 3 and parts[1] in ("guide", "worksheet") and parts[2].endswith(".html"):
            session = next((s for s in course.sessions if s.stem == parts[2][:-5]), None)
            if session is not None:
                stem = quote(session.stem)
                if parts[1] == "guide":
                    doc, css = planner.guide_session(course, session), guide_css
                    other = (f"/{quote(course.slug)}/worksheet/{stem}.html", "Worksheet")
                else:
                    doc, css = planner.worksheet_session(course, session), sheet_css
                    other = (f"/{quote(course.slug)}/guide/{stem}.html", "Guide")
                return 200, page([doc.html], css, path, base, _bar(home + [other], note), gen, inst)
        return 404, not_found_page(path, gen, inst)

    # resources

    def resource(self, rel: str) -> Path | None:
        """The file `rel` (a path under /__files/, decoded) when it lies inside content/ or templates/."""
        if "\x00" in rel or "\\" in rel:
            return None
        pieces = rel.split("/")
        if not pieces or pieces[0] not in RESOURCE_FOLDERS or any(p in ("..", "") for p in pieces[1:]):
            return None
        folder = self.kit_root / pieces[0]
        try:
            target = (self.kit_root / rel).resolve()
        except (OSError, RuntimeError):
            return None
        # inside the kit too: the folder itself may link elsewhere
        if not (inside(target, folder) and inside(target, self.kit_root)):
            return None
        if not target.is_file():
            return None
        return target


# --- the HTTP layer ----------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    server_version = "kit-preview"
    timeout = 60  # seconds a silent client may hold its connection
    preview: Preview  # set on a subclass per server
    log: Callable[[str], None] | None = None

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET(head=True)

    def _addressed_here(self) -> bool:
        """True when the one Host header names this machine (see LOCAL_HOSTS), with no port
        or the server's own: a browser sends the name the page was loaded from, so another
        site's name resolved to 127.0.0.1 (DNS rebinding) is not answered."""
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            return False
        host = hosts[0].strip().lower()
        port = str(self.server.server_address[1])  # type: ignore[index]  # an (address, port) pair here
        return host in LOCAL_HOSTS or any(host == f"{name}:{port}" for name in LOCAL_HOSTS)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        if not self._addressed_here():
            if self.log:
                self.log(f"refused a request for another host: {self.headers.get('Host')!r}")
            self.close_connection = True
            return self._send(421, b"", "text/plain; charset=utf-8", head)
        raw = urlsplit(self.path)
        path = unquote(raw.path)  # decoded once: '%252e' stays the name '%2e', not '..'
        if self.log:
            self.log(f"GET {self.path}")
        if path == RELOAD:
            query = parse_qs(raw.query)
            try:
                since = int(query.get("since", [""])[0])
            except ValueError:
                since = None
            same_server = query.get("instance", [self.preview.instance])[0] == self.preview.instance
            if since is not None and same_server:
                generation = self.preview.wait_for_change(since, LONG_POLL_SECONDS)
            else:
                generation = self.preview.generation
            body = json.dumps({"generation": generation, "instance": self.preview.instance})
            return self._send(200, body.encode(), "application/json", head)
        if path.startswith(FILES):
            target = self.preview.resource(path[len(FILES):])
            if target is None:
                return self._send(404, b"not found\n", "text/plain; charset=utf-8", head)
            return self._send_file(target, head)
        if ".." in path.split("/") or "\x00" in path:
            return self._send(404, b"not found\n", "text/plain; charset=utf-8", head)
        status, text = self.preview.render(path)
        self._send(status, text.encode("utf-8"), "text/html; charset=utf-8", head)

    def _send(self, status: int, body: bytes, content_type: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _send_file(self, target: Path, head: bool) -> None:
        try:  # a regular file (a pipe would stall the server) of a size a page may show
            handle = os.fdopen(open_regular(target, MAX_SERVED_BYTES), "rb")
        except OSError:
            return self._send(404, b"not found\n", "text/plain; charset=utf-8", head)
        with handle:
            size = os.fstat(handle.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(target.name)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                shutil.copyfileobj(handle, self.wfile)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # requests are reported through `log` (see do_GET), not on stderr


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    log: Callable[[str], None] | None = None

    def handle_error(self, request, client_address) -> None:
        import sys

        error = sys.exc_info()[1]
        # A browser that left mid-answer (a reload, a closed tab) is no error; never a traceback.
        if self.log is not None and not isinstance(error, ConnectionError):
            self.log(f"error answering {client_address[0]}: {type(error).__name__}: {error}")


class PreviewServer:
    """The preview's HTTP server and file watcher, run in background threads.

    `start()` returns once the server listens and the watcher watches; `url` is then
    the index's address. `stop()` ends both. Raises KitError when the folder is not a
    kit or the port is taken.
    """

    def __init__(self, kit_root: Path, course: str | None = None, org: Path | None = None,
                 delivery: Path | None = None, port: int = DEFAULT_PORT,
                 log: Callable[[str], None] | None = None):
        self.preview = Preview(kit_root, course, org, delivery)
        self.port = port
        self.log = log
        self._httpd: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._watching = threading.Event()
        self._watch_error: BaseException | None = None

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the preview server is not started")
        return f"http://{HOST}:{self._httpd.server_address[1]}/"

    def start(self) -> PreviewServer:
        root = self.preview.kit_root
        if not (root / "content").is_dir():
            raise KitError(f"{root}: not a kit: there is no content/ folder (create one with 'kit init')")
        handler = type("Handler", (_Handler,), {"preview": self.preview, "log": staticmethod(self.log)
                                                if self.log else None})
        try:
            self._httpd = _Server((HOST, self.port), handler)
        except OSError as exc:
            raise KitError(f"cannot listen on {HOST}:{self.port}: {exc.strerror or exc}; "
                           "choose another port with --port (0 picks a free one)") from None
        self._httpd.log = self.log
        watcher = threading.Thread(target=self._watch, name="kit-preview-watch", daemon=True)
        server = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                  name="kit-preview-http", daemon=True)
        self._threads = [watcher, server]
        watcher.start()
        self._watching.wait(30)
        if self._watch_error is not None:
            self._httpd.server_close()
            raise KitError(f"cannot watch the kit's files: {self._watch_error}")
        server.start()
        return self

    def _watch(self) -> None:
        try:
            from watchfiles import watch

            # yield_on_timeout: the first (empty) answer says the watches are in place.
            for changes in watch(*self.preview.watched_folders(), stop_event=self._stop,
                                 debounce=WATCH_DEBOUNCE_MS, step=50, rust_timeout=200,
                                 yield_on_timeout=True, raise_interrupt=False):
                self._watching.set()
                if changes:
                    self.preview.bump()
        except Exception as exc:  # noqa: BLE001 - reported by start(), or the pages stop updating
            self._watch_error = exc
        finally:
            self._watching.set()

    def wait(self) -> None:
        """Block until stop() is called (or Ctrl-C, which interrupts the wait)."""
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        self._stop.set()
        self.preview.close()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        for thread in self._threads:
            if thread is not threading.current_thread() and thread.is_alive():
                thread.join(timeout=5)

    def __enter__(self) -> PreviewServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(kit_root: Path, course: str | None = None, org: Path | None = None,
          delivery: Path | None = None, port: int = DEFAULT_PORT,
          ready: Callable[[str], None] | None = None, log: Callable[[str], None] | None = None) -> None:
    """Serve the preview until interrupted. `ready(url)` is called once it listens."""
    server = PreviewServer(kit_root, course, org, delivery, port, log).start()
    try:
        if ready is not None:
            ready(server.url)
        server.wait()
    finally:
        server.stop()


# Public names for `kit run` (kit.run), which serves its pages with the same care: the
# handler's Host check, replies and bounded files, and the server's quiet error handling.
LocalHandler = _Handler
LocalServer = _Server
