"""Links: only https:, http:, mailto: and #anchors reach a PDF or a preview page.

Everything else (javascript:, file:, data:, relative addresses...) is an error at its
line, wherever it is written: YAML URL fields, Markdown links, reference links,
autolinks and raw <a href>. The renderer drops a refused href even when no check ran.
"""
from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner

from kit import loader
from kit.build import BuildOptions, build
from kit.cli import main
from kit.errors import KitError
from kit.links import LINK_SCHEMES, link_problem, url_scheme
from kit.loader import load_kit
from kit.markdown import URL_SCHEMES, render_markdown
from kit.preview import Preview

from conftest import MODULE, module
from kits import DENSE_KIT

MODULE_PATH = "content/fixture/01-fixture.md"
ALLOWED_URI = re.compile(r"(?i)(https?|mailto):")


# --- the rule itself ---------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://example.org/a?b=1&c=2", "http://example.org", "HTTPS://EXAMPLE.ORG", "mailto:team@example.org",
    "#top", "#s01-seg2",
])
def test_the_rule_lets_web_and_mail_links_and_anchors_through(url):
    assert link_problem(url) is None


@pytest.mark.parametrize("url, part", [
    ("javascript:alert(1)", "is a javascript: URL"),
    ("JaVaScRiPt:alert(1)", "is a javascript: URL"),
    (" javascript:alert(1)", "is a javascript: URL"),
    ("\x00\x01javascript:alert(1)", "is a javascript: URL"),
    ("java\tscript:alert(1)", "is a javascript: URL"),
    ("java\nscript:alert(1)", "is a javascript: URL"),
    ("vbscript:msgbox(1)", "is a vbscript: URL"),
    ("data:text/html,<script>alert(1)</script>", "is a data: URL"),
    ("file:///etc/passwd", "is a file: URL"),
    ("FILE://server/share/x", "is a file: URL"),
    ("ftp://example.org/x", "is a ftp: URL"),
    ("notes.md", "is a relative address"),
    ("../../etc/passwd", "is a relative address"),
    ("/etc/passwd", "is a relative address"),
    ("//evil.example/x", "is a relative address"),
    ("\\\\server\\share\\x", "is a relative address"),
    ("\\javascript:alert(1)", "is a relative address"),
    ("javascript\\:alert(1)", "is a relative address"),
    ("jav&#x61;script:alert(1)", "is a relative address"),  # undecoded, as Jinja would print it
    (" https://example.org", "spaces or control characters before or inside its scheme"),
    ("ht\ttps://example.org", "spaces or control characters before or inside its scheme"),
    ("https://example.org/\x00", "control character"),
    ("#top\n", "control character"),
    ("", "has no address"),
    ("   ", "has no address"),
    (None, "has no address"),
])
def test_the_rule_refuses_everything_else(url, part):
    problem = link_problem(url)
    assert problem is not None and part in problem


def test_scheme_detection_reads_urls_as_a_browser_does():
    assert url_scheme(" \x01JaVa\tScRiPt:x") == "javascript"
    assert url_scheme("java\x7fscript:x") == ""  # DEL is not skipped: no scheme at all
    assert url_scheme("notes.md") == ""


def test_the_sanitiser_allows_exactly_the_rules_schemes():
    assert URL_SCHEMES == set(LINK_SCHEMES) == {"https", "http", "mailto"}


# --- every place a link can be written is checked, with its line ----------------------------

FRONT = "title: T\nminutes: 10"
SEGMENT = "## S {minutes=10 kind=discussion}\n\n"


def body_case(line_text: str, extra: str = "") -> tuple[str, str]:
    """A module whose line 7 is `line_text` (inside a note block)."""
    # 1 ---, 2 title, 3 minutes, 4 ---, 5 heading, 6 blank, 7 ::: note, 8 the text
    return FRONT, SEGMENT + "::: note\n" + line_text + "\n" + extra + ":::\n"


BODY_LINE = 8
CASES = {
    "markdown link": (*body_case("Read [this](javascript:alert(1)) first."), BODY_LINE, "is a javascript: URL"),
    "mixed case": (*body_case("[x](JaVaScRiPt:alert(1))"), BODY_LINE, "is a javascript: URL"),
    "entity encoded": (*body_case("[x](jav&#x61;script:alert(1))"), BODY_LINE, "is a javascript: URL"),
    "raw html entity": (*body_case('<a href="jav&#x61;script:alert(1)">x</a>'), BODY_LINE, "javascript: URL"),
    "raw html tab": (*body_case('<a href="java&#9;script:alert(1)">x</a>'), BODY_LINE, "javascript: URL"),
    "raw html space": (*body_case('<a href="&#x20;javascript:alert(1)">x</a>'), BODY_LINE, "javascript: URL"),
    "raw html upper": (*body_case('<A HREF="javascript:alert(1)">x</A>'), BODY_LINE, "javascript: URL"),
    "markdown tab": (*body_case("[x](java\tscript:alert(1))"), BODY_LINE, "is a relative address"),
    "backslash": (*body_case("[x](\\javascript:alert(1))"), BODY_LINE, "is a relative address"),
    "relative": (*body_case("See [notes](notes.md)."), BODY_LINE, "'notes.md' is a relative address"),
    "parent folder": (*body_case("[x](../../secret.txt)"), BODY_LINE, "is a relative address"),
    "protocol relative": (*body_case("[x](//evil.example/)"), BODY_LINE, "is a relative address"),
    "empty": (*body_case("[x]()"), BODY_LINE, "has no address"),
    "file autolink": (*body_case("<file:///etc/passwd>"), BODY_LINE, "is a file: URL"),
    "ftp autolink": (*body_case("<ftp://example.org/x>"), BODY_LINE, "is a ftp: URL"),
    "data link": (*body_case("[x](data:text/html,hi)"), BODY_LINE, "is a data: URL"),
    "reference link": (*body_case("Read [the notes][n].", "\n[n]: file:///home/me/notes.md\n"), BODY_LINE + 2,
                       "is a file: URL"),
    "prework url": ('title: T\nminutes: 10\nprework:\n  - title: P\n    url: "javascript:alert(1)"\n'
                    '    kind: video', SEGMENT + "Text.\n", 6, "'prework[1].url': link 'javascript:alert(1)' is a "
                                                              "javascript: URL"),
    "prework file url": ("title: T\nminutes: 10\nprework:\n  - title: P\n    kind: reading\n"
                         "    url: file:///etc/passwd", SEGMENT + "Text.\n", 7, "is a file: URL"),
    "resource url": ("title: T\nminutes: 10\nresources:\n  - title: R\n    url: notes.md",
                     SEGMENT + "Text.\n", 6, "'resources[1].url': link 'notes.md' is a relative address"),
    "objective": ('title: T\nminutes: 10\nobjectives:\n  - "Read [it](notes.md)"', SEGMENT + "Text.\n", 5,
                  "is a relative address"),
    "block field": (FRONT, SEGMENT + "::: anecdote A\npoint: see [x](javascript:alert(1))\nsource: S\n\nStory.\n:::\n",
                    8, "is a javascript: URL"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_bad_link_is_an_error_at_its_line(make_kit, name):
    front, body, line, part = CASES[name]
    root = make_kit({MODULE_PATH: module(front, body)})
    problems = load_kit(root).problems
    errors = [p for p in problems.errors if "link" in p.message]
    assert [(p.path, p.line) for p in errors] == [(MODULE_PATH, line)], [p.format() for p in problems.items]
    assert part in errors[0].message
    assert not [w for w in problems.warnings if "sanitiser" in w.message]  # an error, not also a warning

    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1
    assert re.search(rf"^{re.escape(MODULE_PATH)}:{line}: error: .*{re.escape(part)}", result.output, re.M), \
        result.output
    assert "Traceback" not in result.output


def test_every_bad_link_of_a_run_is_reported_at_once_each_at_its_own_line(make_kit):
    body = SEGMENT + ("::: note\n"
                      "[a](javascript:alert(1))\n"        # 8
                      "[b](jav&#x61;script:alert(1))\n"   # 9
                      "[c](notes.md) and [d](notes.md)\n"  # 10: two links, one line
                      "<https://fine.example/>\n"          # 11
                      "[e](notes.md)\n"                    # 12
                      ":::\n")
    root = make_kit({MODULE_PATH: module(FRONT, body)})
    errors = load_kit(root).problems.errors
    assert sorted(p.line for p in errors) == [8, 9, 10, 10, 12], [p.format() for p in errors]


def test_links_in_the_introduction_and_in_an_organisation_profile_are_checked(make_kit, tmp_path):
    root = make_kit({"content/fixture/introduction.md": "# Intro\n\nSee [the wiki](file:///srv/wiki).\n"})
    profile = tmp_path / "org.yaml"
    profile.write_text("name: Org\nabout: A company.\nproducts:\n  - id: thing\n    name: Thing\n"
                       "    about: A thing.\nexamples:\n  - session: '01'\n    segment: Recap\n"
                       "    title: E\n    product: thing\n    text: |\n      Read [this](notes.md).\n",
                       encoding="utf-8")
    problems = load_kit(root, org_file=profile).problems
    found = sorted((Path(p.path).name, p.line, p.message) for p in problems.errors)
    assert [(name, line) for name, line, _ in found] == [("introduction.md", 3), ("org.yaml", 13)], found
    assert "'file:///srv/wiki' is a file: URL" in found[0][2]
    assert "'notes.md' is a relative address" in found[1][2]


def test_http_links_are_allowed_but_kit_check_still_warns(make_kit):
    front = ("title: T\nminutes: 10\nprework:\n  - title: P\n    url: http://example.org/video\n"
             "    minutes: 5\n    kind: video")
    body = SEGMENT + "::: note\nSee [this](http://example.org/page) and [mail](mailto:a@example.org).\n:::\n"
    root = make_kit({MODULE_PATH: module(front, body)})
    assert load_kit(root).problems.errors == []
    result = CliRunner().invoke(main, ["check", str(root)])
    assert "pre-work link is not https: http://example.org/video" in result.output
    assert "link is not https: http://example.org/page" in result.output
    assert "mailto" not in result.output  # a mail link is neither an error nor a warning


# --- the renderer: a refused href never comes out, checked or not ---------------------------

@pytest.mark.parametrize("text", [
    "[x](javascript:alert(1))", "[x](jav&#x61;script:alert(1))", "[x](notes.md)", "[x](//evil.example)",
    "[x]()", "<file:///etc/passwd>", '<a href="java&#9;script:alert(1)">x</a>', "[x](java\tscript:x)",
    '<a href=" https://example.org">x</a>', "[x](\\\\server\\share)",
])
def test_the_renderer_drops_every_href_the_rule_refuses(text):
    html = str(render_markdown(text))
    assert ">x<" in html or "passwd" in html  # the text stays
    assert "href" not in html, html


def test_the_renderer_keeps_allowed_links():
    html = str(render_markdown("[a](https://example.org/a) [b](http://example.org) [c](mailto:x@example.org) "
                               "[d](#top) <https://auto.example.org/>"))
    assert re.findall(r'href="([^"]*)"', html) == ["https://example.org/a", "http://example.org",
                                                   "mailto:x@example.org", "#top", "https://auto.example.org/"]


def test_with_the_check_bypassed_the_preview_still_shows_no_refused_link(make_kit, monkeypatch):
    monkeypatch.setattr(loader, "check_links", lambda *args, **kwargs: None)
    body = SEGMENT + ("::: note\nLINK-ONE [one](javascript:alert(1)) LINK-TWO [two](notes.md) "
                      "LINK-THREE <file:///etc/passwd> [fine](https://example.org/ok)\n:::\n")
    root = make_kit({MODULE_PATH: module(FRONT, body)})
    assert load_kit(root).problems.errors == []  # the check is really out of the way
    status, page = Preview(root).render("/fixture/guide/01-fixture.html")
    assert status == 200 and "LINK-ONE" in page and "LINK-THREE" in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert "https://example.org/ok" in hrefs
    assert not [h for h in hrefs if re.match(r"(?i)\s*(javascript|file|data):", h) or "notes.md" in h], hrefs


# --- the PDFs -------------------------------------------------------------------------------

def pdf_actions(path: Path) -> list[dict]:
    """Every dictionary of the PDF that is an action or a link annotation, as plain values.

    Each indirect object is visited once, with the direct objects inside it (which
    cannot form cycles); an indirect one met inside is visited in its own turn."""
    found = []
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            stack = [obj]
            while stack:
                item = stack.pop()
                if isinstance(item, pikepdf.Dictionary):
                    if "/S" in item or "/URI" in item or "/JS" in item or item.get("/Subtype") == "/Link":
                        found.append({str(k): str(v) for k, v in item.items()
                                      if k in ("/S", "/URI", "/JS", "/F", "/Subtype")})
                    children = list(item.values())
                elif isinstance(item, pikepdf.Array):
                    children = list(item)
                else:
                    continue
                stack.extend(c for c in children if isinstance(c, (pikepdf.Dictionary, pikepdf.Array))
                             and not c.is_indirect)
    return found


def test_a_built_pdf_holds_only_web_and_mail_links(shared_builds):
    _, out, _ = shared_builds.get(DENSE_KIT, paper="a4")  # shared with test_printfix
    pdfs = [out / "fixture/facilitator-guide.pdf", out / "fixture/participant-worksheets.pdf",
            out / "fixture/sessions/01-fixture-guide.pdf", out / "fixture/sessions/01-fixture-worksheet.pdf"]
    uris = {}
    for pdf in pdfs:
        actions = pdf_actions(pdf)
        uris[pdf.name] = {a["/URI"] for a in actions if "/URI" in a}
        for action in actions:
            assert action.get("/S") not in ("/Launch", "/JavaScript", "/GoToR", "/ImportData", "/SubmitForm"), action
            assert "/JS" not in action, action
            assert "file:" not in action.get("/F", "")
        for uri in uris[pdf.name]:
            assert ALLOWED_URI.match(uri), (pdf.name, uri)
            assert "file:" not in uri.lower()
    assert {"https://example.org/docs", "http://example.org/old", "mailto:team@example.org",
            "https://auto.example.org/", "https://example.org/reference", "https://example.org/further",
            "https://example.org/video"} <= uris["01-fixture-guide.pdf"]
    assert "https://example.org/video" in uris["01-fixture-worksheet.pdf"]  # the pre-work link


@pytest.mark.parametrize("text, part", [
    ("See [notes](notes.md).", "'notes.md' is a relative address"),
    ("<a href=\"javascript:alert(1)\">run</a>", "is a javascript: URL"),
])
def test_a_kit_with_a_refused_link_builds_no_pdf(make_kit, tmp_path, text, part):
    mod = MODULE.replace("FAC-TALKING-POINT about the recap.", text)
    line = mod.split("\n").index(text) + 1
    root = make_kit({MODULE_PATH: mod})
    out = tmp_path / "out"
    with pytest.raises(KitError) as info:
        build(root, BuildOptions(out=out, jobs=1))
    assert [(p.path, p.line) for p in info.value.problems if part in p.message] == [(MODULE_PATH, line)]
    assert not (out.exists() and list(out.rglob("*.pdf")))


def test_templates_print_a_refused_url_as_an_anchor_to_nowhere():
    """The second guard: even a URL no check saw cannot become a link through a template."""
    from kit.render import environment

    template = environment(None).from_string('<a href="{{ url|href }}">x</a>')
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "notes.md", " java\tscript:x", None):
        assert template.render(url=bad) == '<a href="#">x</a>'
    for good in ("https://example.org/a?b=1", "mailto:a@example.org", "#top"):
        assert template.render(url=good) == f'<a href="{good}">x</a>'.replace("&", "&amp;")
