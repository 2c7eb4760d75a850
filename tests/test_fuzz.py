"""Property-based tests: any text gives a model or the kit's own problems, never another exception.

Most examples go straight to the parser (no files); a smaller number go through
`load_kit` on disk, where decoding, course.yaml and the image checks run too.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit import model as m
from kit.loader import _texts, check_texts, load_kit
from kit.markdown import dropped_html, image_sources, render_markdown
from kit.parse import parse_module
from kit.yamlload import YamlProblem, load_yaml

from conftest import COURSE_YAML, MODULE, write_kit

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRONT_LINES = [
    "title: A session", "title:", "title: [x", "title: {a: 1}", "title: !!python/object:os.system x",
    "minutes: 10", "minutes: -5", "minutes: 1e9", "minutes: ten", "minutes: 99999999999999999999",
    "objectives:", "  - one", "  - {a: b}", "  -", "- loose", "prework:", "  - title: Video",
    "    url: https://example.org", "    minutes: 5", "    kind: video", "    kind: podcast",
    "    estimate: maybe", "materials: [a, b]", "preparation:", "  - task: x", "    minutes: 3",
    "resources: yes", "a: &a [x, x]", "b: [*a, *a]", "c: *nope", "? [complex]", ": value", "<<: *a",
    "'quoted: key': 1", '"unclosed', "\tindented: tab", "key: value: more", "...", "%YAML 1.1",
    "--- !!map", "x: !local tag", "x: 2024-01-01", "x: 0x1F", "x: .nan", "x: ~", "- - -", "",
]
BODY_LINES = [
    "## Segment {minutes=10 kind=recap}", "## Pair {minutes=5 kind=pair}", "## No attributes",
    "## {minutes=10 kind=recap}", '## Q {minutes="10 kind=recap}', "## X {minutes=ten kind=nope}",
    "## Y {minutes=10 kind=recap extra=1}", "## Z {=}", "### small", "# big", "##",
    "::: note", "::: say", "::: anecdote Title", "::: example E", "::: pair P", "::: question",
    "::: misconception", "::: check", "::: prompt P", "::: timing", "::: answer", "::: unknown kind",
    ":::: prompt Nested", ":::: answer", ":::", "::::", ":::::", "::: ", ":::\t",
    "point: p", "source: s", "retell: r", "product: widget", "product: nope", "a: A", "b: B",
    "minutes: 5", "swap: no", "debrief:", "  - q?", "lines: 4", "lines: 400", "cut: c", "add: a",
    "Word: looks like a field", "```", "~~~", "```python", "    indented code", "> quote", "- item",
    "1. item", "| a | b |", "|---|---|", "![alt](pic.png)", "![](http://127.0.0.1:1/x.png)",
    "![x](../../../../etc/passwd)", "![x](/dev/zero)", "![x](file:///etc/hosts)", "![x][r]",
    "[r]: http://127.0.0.1:1/r.png", '<img src="x.png">', "<img src=//h/x.png alt=y>",
    "<script>alert(1)</script>", "<style>p{}</style>", "<a href='javascript:x' onclick=y>z</a>",
    "<div><span style=color:red>", "<!-- comment", "-->", "{{ 7*7 }}", "{% if x %}", "&amp; &#0; &#x110000;",
    "\x0b\x0c", "\u2028", "\ufeff", "é", "- - - - - deep", "        - indented", "> > > quoted", "[[[",
    "](", "<a href=", "## Title ## {minutes=10 kind=recap} ##", "::: note   spaced title   ", "", "", "",
]
ANY_LINE = st.text(max_size=30)
front_line = st.one_of(st.sampled_from(FRONT_LINES), ANY_LINE)
body_line = st.one_of(st.sampled_from(BODY_LINES), st.sampled_from(BODY_LINES), ANY_LINE)


@st.composite
def modules(draw) -> str:
    """YAML-ish front matter and Markdown-ish body, sometimes with a broken frame."""
    front = draw(st.lists(front_line, max_size=12))
    body = draw(st.lists(body_line, max_size=30))
    opening = draw(st.sampled_from(["---", "---", "--- ", "", "----", "\ufeff---"]))
    closing = draw(st.sampled_from(["---", "---", "...", "", "--- x"]))
    ending = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    return ending.join([opening, *front, closing, *body]) + draw(st.sampled_from(["", ending]))


class Collect:
    """A report function that checks what the parser reports and keeps it."""

    def __init__(self):
        self.items: list[tuple[int, str]] = []

    def __call__(self, line, message):
        assert isinstance(line, int) and isinstance(message, str) and message, (line, message)
        self.items.append((line, message))


def parse(text: str, tmp: Path) -> m.Session | None:
    errors, warnings = Collect(), Collect()
    session = parse_module(text, "content/c/01-x.md", 1, "x", {"widget": "Widget"}, 90, errors, warnings)
    assert session is None or isinstance(session, m.Session)
    if session is not None:
        for segment in session.segments:
            assert isinstance(segment.minutes, int) and isinstance(segment.blocks, tuple)
        # The loader's checks of what the texts name, and the sanitiser, on whatever came out.
        from kit.errors import Problems

        problems = Problems(tmp)
        check_texts(_texts(session, 1), text, tmp / "content/c/01-x.md", tmp / "content/c", tmp, problems)
        assert all(p.line >= 1 for p in problems.items)
        for text_value, _ in _texts(session, 1):
            render_markdown(text_value)
            render_markdown(text_value, inline=True)
    return session


@pytest.fixture(scope="module")
def empty_folder(tmp_path_factory) -> Path:
    """An empty folder for `parse` to check what texts name against: nothing there is written,
    so every example can share it (a folder made and removed per example cost more than parsing)."""
    return tmp_path_factory.mktemp("empty")


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_parses_to_a_session_or_problems(empty_folder, text):
    parse(text, empty_folder)
    assert not any(empty_folder.iterdir())


@FUZZ
@given(text=modules())
def test_any_module_shaped_text_parses_to_a_session_or_problems(empty_folder, text):
    parse(text, empty_folder)
    assert not any(empty_folder.iterdir())


@settings(max_examples=300, deadline=None)
@given(text=st.lists(front_line, max_size=15).map("\n".join))
def test_any_yaml_loads_or_gives_a_yaml_problem(text):
    try:
        load_yaml(text, 3)
    except YamlProblem as problem:
        assert isinstance(problem.line, int) and problem.line >= 1 and problem.message


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.lists(body_line, max_size=10).map("\n".join)))
def test_html_inspection_never_fails(text):
    assert all(isinstance(src, str) for src in image_sources(text))
    for dropped in dropped_html(text):
        assert dropped.message


# Through the loader, on disk: bytes that may not be UTF-8, a broken course.yaml.
raw_module = st.one_of(
    modules().map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=300),
    st.builds(lambda head, junk, tail: head + junk + tail,
              st.just(MODULE.encode()[:200]), st.binary(max_size=20), st.just(MODULE.encode()[200:])),
)
raw_course = st.one_of(
    st.just(COURSE_YAML.encode()),
    st.lists(front_line, max_size=10).map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
    st.builds(lambda extra: (COURSE_YAML + extra).encode("utf-8", "surrogatepass"),
              st.lists(front_line, max_size=4).map("\n".join)),
)


@pytest.fixture(scope="module")
def kit_root(tmp_path_factory) -> Path:
    """One kit folder that every example rewrites (see below)."""
    return tmp_path_factory.mktemp("fuzz") / "kit"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=raw_module, course=raw_course, intro=st.one_of(st.none(), st.text(max_size=100)))
def test_any_kit_loads_to_a_model_or_its_problems(kit_root, module, course, intro):
    # Every example writes its course's files over the last example's (loading writes nothing),
    # and removes the introduction when it has none: the kit is then exactly these files.
    files = {"content/fixture/01-fixture.md": module, "content/fixture/course.yaml": course}
    if intro is not None:
        files["content/fixture/introduction.md"] = intro.encode("utf-8", "surrogatepass")
    else:
        (kit_root / "content/fixture/introduction.md").unlink(missing_ok=True)
    root = write_kit(kit_root, files)
    assert sorted(p.name for p in (root / "content/fixture").iterdir()) == sorted(Path(f).name for f in files)
    loaded = load_kit(root)
    assert isinstance(loaded.kit, m.Kit)
    for problem in loaded.problems.items:
        assert problem.line >= 1 and problem.message
        assert problem.path.startswith("content/fixture/"), problem.format()
