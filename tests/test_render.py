"""Templates a kit brings are untrusted: kit/render.py runs them in Jinja's sandbox.

Each hostile template here is checked twice where that makes sense: with a plain Jinja
environment, to show that the payload really does what it claims (creates the marker
file, reads the secret), then with the kit's, which must refuse it with a
`templates/NAME:LINE: template error: ...` message, create nothing and read nothing.
"""
from __future__ import annotations

import datetime
import os
import sys
import threading
import time
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner
from conftest import module, write_kit
from pdftext import all_text

from kit import render
from kit.build import BuildOptions, build
from kit.cli import main
from kit.errors import KitError
from kit.paths import bundled_templates
from kit.render import environment, render_template, stylesheet

SECRET = "SECRET-7f3a9c-not-for-templates"


@pytest.fixture
def trap(tmp_path):
    """A marker path that a successful attack would create, and a secret file outside the kit."""
    marker = tmp_path / "pwned"
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    return marker, secret


def kit_with(tmp_path, templates: dict[str, str | bytes]) -> Path:
    return write_kit(tmp_path / "kit", {f"templates/{name}": text for name, text in templates.items()})


def refused(root: Path, name: str = "guide-session.html", **context) -> str:
    """The message of the KitError that rendering `name` raises."""
    with pytest.raises(KitError) as caught:
        render_template(environment(root), name, **context)
    return str(caught.value)


def plain_render(root: Path, name: str = "guide-session.html") -> str:
    """What Jinja without the sandbox does with the kit's templates (the control)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "templates")))
    return env.get_template(name).render()


# --- code execution ------------------------------------------------------------------

def payloads(marker: Path, secret: Path) -> dict[str, str]:
    """Templates that create `marker` and print `secret` when nothing stops them."""
    write = f"['__builtins__']['open']('{marker}', 'w').write('x')"
    read = f"['__builtins__']['open']('{secret}').read()"
    touch = f"os.popen('touch {marker}').read()"
    return {
        "mro-subclasses": (
            "<p>A session</p>\n"
            "{% for c in ''.__class__.__mro__[1].__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
            "{% set g = c.__init__.__globals__ %}{{ g" + write + " }}{{ g" + read + " }}{% endif %}{% endfor %}\n"),
        "cycler-globals": (
            "{{ cycler.__init__.__globals__" + write + " }}{{ cycler.__init__.__globals__" + read + " }}\n"),
        "template-reference-context": (
            "\n{% set g = self._TemplateReference__context.cycler.__init__.__globals__ %}"
            "{{ g" + write + " }}{{ g" + read + " }}\n"),
        "lipsum-globals": "{{ lipsum.__globals__" + write + " }}{{ lipsum.__globals__" + read + " }}\n",
        "attr-filter": "{% set g = lipsum|attr('__globals__') %}\n{{ g" + write + " }}{{ g" + read + " }}\n",
        "os-popen": "\n\n{{ lipsum.__globals__." + touch + " }}\n",
        "format-string": "{{ '{0.__class__.__mro__[1]}'.format('') }}{{ lipsum.__globals__." + touch + " }}\n",
    }


# The line each payload's first refused expression is on, and a word of the refusal.
EXPECTED = {
    "mro-subclasses": (2, "'__class__' of 'str' object is unsafe"),
    "cycler-globals": (1, "'__init__' of 'type' object is unsafe"),
    "template-reference-context": (2, "'_TemplateReference__context' of 'TemplateReference' object is unsafe"),
    "lipsum-globals": (1, "'__globals__' of 'function' object is unsafe"),
    "attr-filter": (2, "'__globals__' of 'function' object is unsafe"),
    "os-popen": (3, "'__globals__' of 'function' object is unsafe"),
    "format-string": (1, "'__class__' of 'str' object is unsafe"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_cannot_run_code_or_read_files(tmp_path, trap, name):
    marker, secret = trap
    template = payloads(marker, secret)[name]
    root = kit_with(tmp_path, {"guide-session.html": template})

    control = plain_render(root)  # without the sandbox the payload works
    assert marker.exists()
    assert SECRET in control or name in ("os-popen", "format-string")
    marker.unlink()

    message = refused(root)
    line, why = EXPECTED[name]
    assert message.startswith(f"templates/guide-session.html:{line}: template error: "), message
    assert why in message
    assert not marker.exists()
    assert SECRET not in message


def test_a_hostile_override_stops_the_build_with_a_message(tmp_path, trap):
    marker, secret = trap
    root = kit_with(tmp_path, {"guide-session.html": payloads(marker, secret)["lipsum-globals"]})
    out = tmp_path / "out"
    with pytest.raises(KitError) as caught:
        build(root, BuildOptions(out=out, jobs=1))
    assert str(caught.value).startswith("templates/guide-session.html:1: template error: ")
    assert not marker.exists() and not list(out.rglob("*.pdf"))

    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-j", "1"])
    assert result.exit_code == 1
    assert "templates/guide-session.html:1: template error: access to attribute '__globals__'" in result.output
    assert "Traceback" not in result.output and SECRET not in result.output
    assert not marker.exists()


def test_only_macros_helpers_and_data_methods_can_be_called(tmp_path, trap):
    marker, _ = trap
    root = kit_with(tmp_path, {
        "guide-session.html": "{{ target.write_text('x') }}",
        "cwd.html": "\n{{ where() }}",
        "class.html": "{{ kind('x') }}",
        "ok.html": ("{{ 'a,b'.split(',')|join('+') }} {{ d.strftime('%Y') }} {{ items.get('k') }} "
                    "{% for x in 'ab' %}{{ loop.cycle('1', '2') }}{% endfor %}"),
    })
    assert refused(root, target=marker).startswith(
        "templates/guide-session.html:1: template error: 'Path.write_text' may not be called from a template")
    assert not marker.exists()
    assert refused(root, "cwd.html", where=os.getcwd).startswith("templates/cwd.html:2: template error: 'getcwd'")
    assert refused(root, "class.html", kind=Path).startswith("templates/class.html:1: template error: 'Path' may not")
    html = render_template(environment(root), "ok.html", d=datetime.date(2027, 1, 13), items={"k": "v"})
    assert html == "a+b 2027 v 12"


def test_lists_and_dicts_cannot_be_changed(tmp_path):
    root = kit_with(tmp_path, {"guide-session.html": "{% set seen = [] %}\n{{ seen.append(1) }}"})
    assert refused(root).startswith(
        "templates/guide-session.html:2: template error: access to attribute 'append' of 'list' object is unsafe")


# --- reading files -------------------------------------------------------------------

def test_include_of_an_absolute_path_is_refused(tmp_path, trap):
    _, secret = trap
    hostname = Path("/etc/hostname")
    root = kit_with(tmp_path, {"guide-session.html": "<p>x</p>\n{% include '/etc/hostname' %}\n",
                               "other.html": f"{{% include '{secret}' %}}"})
    message = refused(root)
    assert message == ("templates/guide-session.html:2: template error: '/etc/hostname': a template is "
                       "named by its path inside templates/, not by an absolute path")
    if hostname.is_file() and len(hostname.read_text().strip()) >= 4:
        assert hostname.read_text().strip() not in message
    message = refused(root, "other.html")
    assert message.startswith("templates/other.html:1: template error: ") and "absolute path" in message
    assert SECRET not in message


def test_include_that_climbs_out_of_templates_is_refused(tmp_path):
    (tmp_path / "x").write_text(SECRET)  # what '../../x' names from kit/templates/
    root = kit_with(tmp_path, {"guide-session.html": "\n\n{% include '../../x' %}"})
    message = refused(root)
    assert message == ("templates/guide-session.html:3: template error: '../../x': '..' may not be used "
                       "in a template name; templates are read from templates/ only")


@pytest.mark.parametrize("target", ["/etc/passwd", "secret"])
def test_symlinked_template_leading_out_is_refused(tmp_path, trap, target):
    _, secret = trap
    target_path = Path(target) if target.startswith("/") else secret
    if not target_path.is_file():
        pytest.skip(f"{target_path} does not exist here")
    content = target_path.read_text(errors="replace").strip()
    root = kit_with(tmp_path, {"guide-session.html": "{% include 'theme.html' %}\n"})
    (root / "templates/theme.html").symlink_to(target_path)
    assert content[:40] in plain_render(root)  # Jinja's own FileSystemLoader follows the link

    message = refused(root)
    assert message == ("templates/theme.html:1: template error: the file links to a place outside templates/; "
                       "it is not read (included at templates/guide-session.html:1)")
    # The override itself as a link: refused too, not replaced by the bundled template.
    (root / "templates/guide-session.html").unlink()
    (root / "templates/guide-session.html").symlink_to(target_path)
    assert refused(root) == ("templates/guide-session.html:1: template error: the file links to a place "
                             "outside templates/; it is not read")


def test_links_inside_templates_are_followed(tmp_path):
    root = kit_with(tmp_path, {"parts/real.html": "INSIDE", "guide-session.html": "{% include 'alias.html' %}"})
    (root / "templates/alias.html").symlink_to(root / "templates/parts/real.html")
    assert render_template(environment(root), "guide-session.html") == "INSIDE"


def test_templates_folder_linked_out_of_the_kit_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "guide-session.html").write_text(SECRET)
    root = write_kit(tmp_path / "kit")
    (root / "templates").symlink_to(elsewhere)
    with pytest.raises(KitError) as caught:
        environment(root)
    assert str(caught.value) == "templates:1: templates/ links to a place outside the kit; it is not read"


def run_briefly(function, seconds: float = 10):
    """function() in a thread; fails instead of hanging the test run."""
    result = {}

    def target():
        try:
            result["value"] = function()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "reading the template blocked"
    return result


def test_fifo_is_refused_without_blocking(tmp_path):
    root = kit_with(tmp_path, {"guide-session.html": "<p>x</p>\n{% include 'pipe.html' %}"})
    os.mkfifo(root / "templates/pipe.html")
    result = run_briefly(lambda: render_template(environment(root), "guide-session.html"))
    assert isinstance(result.get("error"), KitError)
    assert str(result["error"]) == ("templates/pipe.html:1: template error: not a regular file; it is not read "
                                    "(included at templates/guide-session.html:2)")
    os.mkfifo(root / "templates/guide.css")
    result = run_briefly(lambda: stylesheet(environment(root), "guide.css"))
    assert str(result["error"]) == "templates/guide.css:1: stylesheet error: not a regular file; it is not read"


def test_folder_or_device_is_not_a_template(tmp_path):
    root = kit_with(tmp_path, {"guide-session.html": "{% include 'folder.html' %}",
                               "dev.html": "{% include 'null.html' %}"})
    (root / "templates/folder.html").mkdir()
    assert refused(root).startswith("templates/folder.html:1: template error: not a regular file")
    if os.path.exists("/dev/null"):
        # A link to a device leads out of templates/ and is refused before it is looked at.
        (root / "templates/null.html").symlink_to("/dev/null")
        assert "links to a place outside templates/" in refused(root, "dev.html")


def test_oversize_template_is_refused_before_it_is_read(tmp_path):
    limit = render.MAX_TEMPLATE_BYTES
    root = kit_with(tmp_path, {"guide-session.html": "x" * (limit + 1), "edge.html": "y" * limit,
                               "worksheet-session.html": "{% include 'huge.html' %}"})
    assert refused(root) == ("templates/guide-session.html:1: template error: larger than 256 KiB, "
                             "the limit for a template or stylesheet")
    assert render_template(environment(root), "edge.html") == "y" * limit
    # A sparse file of a gibibyte: refused by its size, in no time and without reading it.
    with open(root / "templates/huge.html", "wb") as handle:
        handle.truncate(2**30)
    started = time.monotonic()
    message = refused(root, "worksheet-session.html")
    assert time.monotonic() - started < 2
    assert message.startswith("templates/huge.html:1: template error: larger than 256 KiB")


def test_reads_at_most_the_limit_and_one_byte(tmp_path, monkeypatch):
    """Checked before and while reading: a file that grows after stat is cut at limit + 1."""
    root = kit_with(tmp_path, {"guide-session.html": "small"})
    requested = []
    real_fdopen = os.fdopen

    class Endless:  # as if the file went on for ever
        def __init__(self, fd, *args):
            os.close(fd)

        def read(self, n=-1):
            requested.append(n)
            return b"z" * n

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(os, "fdopen", Endless)  # the read kit.safefs makes of an opened file
    message = refused(root)
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert sum(requested) == render.MAX_TEMPLATE_BYTES + 1
    assert message.startswith("templates/guide-session.html:1: template error: larger than 256 KiB")


def test_invalid_utf8_is_an_error_at_its_line(tmp_path):
    root = kit_with(tmp_path, {"guide-session.html": b"<p>one</p>\n<p>two \xff</p>\n",
                               "guide.css": b"body {}\n\n\xc3(\n"})
    assert refused(root) == "templates/guide-session.html:2: template error: not valid UTF-8; save the file as UTF-8"
    with pytest.raises(KitError) as caught:
        stylesheet(environment(root), "guide.css")
    assert str(caught.value) == "templates/guide.css:3: stylesheet error: not valid UTF-8; save the file as UTF-8"


def test_oversize_stylesheet_is_refused(tmp_path):
    root = kit_with(tmp_path, {"guide.css": "a{}" * 100_000})
    with pytest.raises(KitError) as caught:
        stylesheet(environment(root), "guide.css")
    assert str(caught.value) == ("templates/guide.css:1: stylesheet error: larger than 256 KiB, "
                                 "the limit for a template or stylesheet")


# --- errors with their line --------------------------------------------------------------

@pytest.mark.parametrize("template, expected", [
    ("<p>\n{{ 1/0 }}\n</p>", "templates/guide-session.html:2: template error: ZeroDivisionError: division by zero"),
    ("\n\n{{ nowhere.at_all }}", "templates/guide-session.html:3: template error: 'nowhere' is undefined"),
    ("<p>\n{% if %}", ("templates/guide-session.html:2: template error: Expected an expression, "
                       "got 'end of statement block'")),
    ("{{ range(10**9)|length }}", ("templates/guide-session.html:1: template error: OverflowError: Range too big. "
                                   "The sandbox blocks ranges larger than MAX_RANGE (100000).")),
    ("\n{% include 'nope.html' %}", "templates/guide-session.html:2: template error: template not found: nope.html"),
    ("{% include 'broken.html' %}", "templates/broken.html:3: template error: unexpected '}'"),
])
def test_template_errors_carry_the_template_line(tmp_path, template, expected):
    root = kit_with(tmp_path, {"guide-session.html": template, "broken.html": "a\nb\n{{ } }}"})
    assert refused(root) == expected


@pytest.mark.parametrize("template, line", [
    ("<p>\n{% include 'guide-session.html' %}", 2),
    ("{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}\n\n{{ again(1) }}", 1),
    ("<p>\n{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}", 2),
])
def test_endless_recursion_is_an_error_and_leaves_the_process_working(tmp_path, template, line):
    root = kit_with(tmp_path, {"guide-session.html": template, "fine.html": "{{ 6 * 7 }}"})
    limit = sys.getrecursionlimit()
    env = environment(root)
    with pytest.raises(KitError) as caught:
        render_template(env, "guide-session.html")
    assert str(caught.value) == (f"templates/guide-session.html:{line}: template error: templates nested too "
                                 "deeply (a macro, include or recursive loop that never ends?)")
    assert sys.getrecursionlimit() == limit
    assert render_template(env, "fine.html") == "42"  # the same environment still renders


# --- time and size ---------------------------------------------------------------------

@pytest.mark.parametrize("template", [
    # The iterables are made before the loops, so only the loops themselves can stop them.
    "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
    "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{{ j % 2 }}{% endfor %}{% endfor %}",
    "{% set s = 'y' * 100000 %}{% for i in s %}{% for j in s if j %}{% endfor %}{% endfor %}",
    # A recursive loop: each call of loop() iterates four million times.
    ("{% set big = [0] * 4000000 %}{% for i in [big] * 20 recursive %}"
     "{% if i is iterable %}{{ loop(i) }}{% endif %}{% endfor %}"),
])
def test_a_template_that_runs_too_long_is_stopped(tmp_path, monkeypatch, template):
    # Each template runs until the limit stops it, so the limit is this test's cost: 0.1 s
    # still leaves the loops most of it (what comes before the first iteration, the
    # template's compiling and the four-million-item list included, takes about 0.02 s).
    monkeypatch.setattr(render, "RENDER_SECONDS", 0.1)
    root = kit_with(tmp_path, {"guide-session.html": template})
    started = time.monotonic()
    message = refused(root)
    assert time.monotonic() - started < 2.5
    assert message == ("templates/guide-session.html: template error: rendering took longer than 0.1 seconds, "
                       "the limit for one document (a loop that runs too long?)")


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{{ chunk }}{% endfor %}",
    # Captured by a macro and a set block, never printed: still counted.
    "{% macro m() %}{% for i in range(100000) %}{{ chunk }}{% endfor %}{% endmacro %}{% set s = m() %}",
    "{% set s %}{% for i in range(100000) %}{{ chunk }}{% endfor %}{% endset %}",
])
def test_a_template_that_writes_too_much_is_stopped(tmp_path, template):
    root = kit_with(tmp_path, {"guide-session.html": template})
    message = refused(root, chunk="x" * 1000)
    assert message == ("templates/guide-session.html: template error: the templates wrote more than 8 Mi "
                       "characters, the limit for one document (a loop that runs too long?)")


@pytest.mark.parametrize("expression", [
    "'x' * 10**10",
    "10 ** 100000",
    "('x' * 1000000) ~ ('x' * 1000000) ~ ('x' * 1000000) ~ ('x' * 1000000) ~ ('x' * 1000000) ~ ('x' * 4000000)",
    "('{0}' * 1000).format('x' * 100000)",
    "'%999999999s' % 'x'",
    "('x' * 1000000)|replace('x', 'yyyyyyyyyyyyyyy')",
    "('\\n' * 1000000)|indent(100)",
    "range(100000)|join('x' * 1000)",
    "'x'.ljust(1000000000)",
    "lipsum(100000, max=100000)",
])
def test_values_that_would_explode_are_refused_before_they_are_made(tmp_path, expression):
    root = kit_with(tmp_path, {"guide-session.html": "<p>\n{{ " + expression + " }}\n</p>"})
    started = time.monotonic()
    message = refused(root)
    assert time.monotonic() - started < 5
    assert message.startswith("templates/guide-session.html:2: template error: "), message
    assert "larger than" in message or "more than" in message


# --- the bundled templates and benign overrides ---------------------------------------------

def test_bundled_templates_render_in_the_sandbox_well_within_the_limits(tmp_path):
    from kit.build import Planner
    from kit.loader import load_kit

    root = write_kit(tmp_path / "kit")
    loaded = load_kit(root)
    planner = Planner(root, BuildOptions(out=tmp_path / "out"))
    course = loaded.kit.courses[0]
    session = course.sessions[0]
    started = time.monotonic()
    docs = [planner.guide_session(course, session), planner.worksheet_session(course, session),
            planner.guide_intro(course), planner.guide_front(course, {}), planner.worksheet_front(course)]
    assert time.monotonic() - started < render.RENDER_SECONDS / 4
    assert all(len(d.html) < render.MAX_OUTPUT / 10 for d in docs)
    assert "FAC-ANECDOTE-TITLE" in docs[0].html and "PART-PROMPT-TITLE" in docs[1].html
    assert isinstance(planner.env, jinja2.sandbox.ImmutableSandboxedEnvironment)


# A small session for the real build below: three segments (so three rows in the run
# sheet), one prompt (PART-PROMPT-TITLE, on the worksheet too) and one anecdote
# (FAC-ANECDOTE-TITLE, guide only); about half the pages of the fixture session's.
OVERRIDDEN_SESSION = module(
    "title: Overridden Session\nminutes: 30\nobjectives: [Override a template]",
    "## Recap {minutes=10 kind=recap}\n\n:::: prompt PART-PROMPT-TITLE\nlines: 2\n\nIs it linear?\n\n"
    "::: answer\nIn the weights.\n:::\n::::\n\n"
    "## Story {minutes=10 kind=discussion}\n\n::: anecdote FAC-ANECDOTE-TITLE\npoint: The point.\n"
    "source: A teacher.\nretell: Briefly.\n\nOnce upon a time.\n:::\n\n"
    "## Wrap {minutes=10 kind=wrap-up}\n\nWhat changed?\n")


def test_kit_overrides_still_work_in_a_real_build(tmp_path):
    bundled = (bundled_templates() / "guide-session.html").read_text(encoding="utf-8")
    session_title = '<h1 class="session-title"'
    assert session_title in bundled
    override = bundled.replace(
        session_title,
        '{% from "parts/marks.html" import mark %}{% call mark("KIT") %}OVERRIDE{% endcall %}'
        '<p>PROMPTS-{{ session.blocks("prompt")|length }} {{ "{}-{}".format(course.title|upper, rows|length) }}</p>\n'
        + session_title, 1)
    root = kit_with(tmp_path, {
        "guide-session.html": override,
        "parts/marks.html": "{% macro mark(who) %}<p>{{ who }}-{{ caller() }}-MARKER</p>{% endmacro %}",
        "guide.css": 'h1.session-title::after { content: " CSS-OVERRIDE-MARKER"; }\n',
    })
    write_kit(root, {"content/fixture/01-fixture.md": OVERRIDDEN_SESSION})
    out = tmp_path / "out"
    build(root, BuildOptions(out=out, jobs=1))
    guide = all_text(out / "fixture/facilitator-guide.pdf")
    assert "KIT-OVERRIDE-MARKER" in guide
    assert "PROMPTS-1 FIXTURE COURSE-3" in guide
    assert "CSS-OVERRIDE-MARKER" in guide
    assert "FAC-ANECDOTE-TITLE" in guide  # the rest of the bundled template is still there
    sheets = all_text(out / "fixture/participant-worksheets.pdf")
    assert "KIT-OVERRIDE-MARKER" not in sheets and "PART-PROMPT-TITLE" in sheets


def test_kit_check_reports_a_template_linked_out_of_templates_as_the_build_would(tmp_path):
    from kit.check import check_kit_dir

    root = write_kit(tmp_path / "kit")
    (root / "templates").mkdir()
    (root / "templates/guide.css").symlink_to(root / "content/fixture/course.yaml")
    messages = [p.format() for p in check_kit_dir(root) if p.severity == "error"]
    assert messages == ["templates/guide.css:1: the file links out of templates/; templates and "
                        "stylesheets are read only from templates/"]


def test_an_edited_kit_template_is_compiled_again_in_the_same_process(tmp_path):
    """Compiled templates are kept for the process (kit preview builds again and again):
    an edit, or another kit's template of the same name, must never get old code."""
    from kit.render import environment, render_template

    first, second = tmp_path / "one", tmp_path / "two"
    for root, text in ((first, "ONE {{ 1 + 1 }}"), (second, "TWO {{ 2 + 2 }}")):
        (root / "templates").mkdir(parents=True)
        (root / "templates" / "page.html").write_text(text)
    assert render_template(environment(first), "page.html") == "ONE 2"
    assert render_template(environment(second), "page.html") == "TWO 4"
    page = first / "templates" / "page.html"
    page.write_text("EDITED {{ 3 + 3 }}")
    os.utime(page, ns=(1, 1))  # the same size, any time: the source itself decides
    assert render_template(environment(first), "page.html") == "EDITED 6"
