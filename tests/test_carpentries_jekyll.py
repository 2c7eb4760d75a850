"""The Jekyll ("styles") lesson reader: older Carpentries lessons rewritten as Workbench text.

Parse-level only (no PDF). The fixtures in tests/fixtures/carpentries/jekyll-*/ were written
for these tests; the real lessons in ../shared/carpentries/ are read when they are there.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kit.carpentries.jekyll import MAX_NESTING, ConvertedEpisode, read_jekyll_lesson
from kit.errors import Problems

FIXTURES = Path(__file__).parent / "fixtures" / "carpentries"
LESSON = FIXTURES / "jekyll-lesson"
MISTAKES = FIXTURES / "jekyll-problems"
SHARED = Path(os.environ.get("KIT_CARPENTRIES_LESSONS", Path(__file__).resolve().parents[2] / "shared"
                             / "carpentries"))

DIV_RE = re.compile(r"^(:{3,})\s*([\w-]*)\s*$")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")


def read(lesson: Path) -> tuple:
    problems = Problems(lesson)
    return read_jekyll_lesson(lesson, problems), problems


def episode(lesson, name: str) -> ConvertedEpisode:
    return next(e for e in lesson.episodes if e.source.endswith(name))


def prose_lines(text: str):
    """Yield (line, None) for each line of `text` outside fenced code; at the end, yield
    (None, fence): the fence still open ('' when every block was closed)."""
    fence = ""
    for line in text.split("\n"):
        code = FENCE_RE.match(line)
        if fence:
            if code and code.group(1)[0] == fence[0] and len(code.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = ""
        elif code:
            fence = code.group(1)
        else:
            yield line, None
    yield None, fence


def structure(text: str) -> list[str]:
    """Every div as the path of kinds from the outermost ('challenge/solution'), in order;
    asserts that divs and code fences are balanced."""
    found, stack = [], []
    for line, open_fence in prose_lines(text):
        if line is None:
            assert not stack and not open_fence, (stack, open_fence)
            break
        div = DIV_RE.match(line)
        if div and div.group(2):
            stack.append(div.group(2))
            found.append("/".join(stack))
        elif div:
            assert stack, f"a closing fence closes nothing: {line!r}"
            stack.pop()
    return found


def prose(text: str) -> list[str]:
    """The lines of `text` outside fenced code."""
    return [line for line, _ in prose_lines(text) if line is not None]


def body_of(text: str, kind: str, nth: int = 0) -> str:
    """The text inside the nth div of `kind` (nested divs included)."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if DIV_RE.match(line) and DIV_RE.match(line).group(2) == kind]
    start, depth = starts[nth], 0
    for end in range(start, len(lines)):
        div = DIV_RE.match(lines[end])
        if div:
            depth += 1 if div.group(2) else -1
            if depth == 0:
                return "\n".join(lines[start + 1:end])
    raise AssertionError("unclosed")


def source_line(ep: ConvertedEpisode, lesson: Path, text: str) -> int:
    """The source line the converted line that holds `text` is mapped to."""
    index = next(i for i, line in enumerate(ep.text.split("\n")) if text in line)
    return ep.lines[index]


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().split("\n"), 1) if text in line)


# ---- the lesson -----------------------------------------------------------------------------------

def test_the_lesson_is_read_in_order_with_its_setup_and_instructor_notes():
    lesson, problems = read(LESSON)
    assert problems.items == []
    assert lesson.title == "Tea Brewing for Testers"
    # 03-milk exists as .Rmd (in _episodes_rmd/) and as its knitted .md: the .Rmd is read
    assert [e.source for e in lesson.episodes] == ["_episodes/01-kettle.md", "_episodes/02-steeping.md",
                                                   "_episodes_rmd/03-milk.Rmd"]
    assert lesson.setup.source == "setup.md"
    assert lesson.instructor_notes.source == "_extras/guide.md"
    assert "NOTE-FOR-INSTRUCTORS" in lesson.instructor_notes.text
    assert structure(lesson.instructor_notes.text) == ["callout"]
    for ep in lesson.episodes + (lesson.setup, lesson.instructor_notes):
        assert len(ep.lines) == ep.text.count("\n"), ep.source


def test_every_line_maps_to_the_source_line_it_comes_from():
    lesson, _ = read(LESSON)
    checked = 0
    for ep in lesson.episodes + (lesson.setup, lesson.instructor_notes):
        source = (LESSON / ep.source).read_text().split("\n")
        for text, line in zip(ep.text.split("\n"), ep.lines):
            words = re.findall(r"[A-Za-z]{4,}", text)
            if text.startswith("[kettle-manual]:"):  # a shared definition, at `{% include links.md %}`
                assert line == line_of(LESSON / ep.source, "{% include links.md %}")
                continue
            if DIV_RE.match(text) or FENCE_RE.match(text) or text.startswith("- ") or not words:
                continue  # made by the conversion, or a front matter item (checked elsewhere)
            if "{{" in source[line - 1]:
                words = [w for w in words if w != "Steeping"]  # {{ page.title }}
            assert all(word in source[line - 1] for word in words), (ep.source, line, text)
            checked += 1
    assert checked > 40


def test_front_matter_keeps_the_timings_as_written_and_lists_become_divs():
    lesson, _ = read(LESSON)
    ep = episode(lesson, "01-kettle.md")
    path = LESSON / ep.source
    head = ep.text.split("---\n")[1]
    assert head == 'title: "Boiling Water"\nteaching: 15\nexercises: 10\nbreak: 5\n'
    for key in ("title:", "teaching:", "exercises:", "break:"):
        assert source_line(ep, LESSON, key) == line_of(path, key)
    assert structure(ep.text)[:2] == ["objectives", "questions"]
    assert structure(ep.text)[-1] == "keypoints"
    assert body_of(ep.text, "objectives").split() == "- Boil water safely. - Time a kettle with `time`.".split()
    assert "- How long does a kettle take?" in body_of(ep.text, "questions")
    assert "- A watched kettle boils at the same speed." in body_of(ep.text, "keypoints")
    # each bullet points at its item in the front matter
    assert source_line(ep, LESSON, "- How long does a kettle take?") == line_of(path, "How long does a kettle")
    assert "questions:" not in ep.text and "keypoints:" not in ep.text


def test_challenge_hints_and_solutions_become_nested_divs():
    lesson, _ = read(LESSON)
    ep = episode(lesson, "01-kettle.md")
    assert structure(ep.text) == [
        "objectives", "questions",
        "challenge", "challenge/hint", "challenge/solution", "challenge/solution", "challenge/solution/solution",
        "callout", "checklist", "discussion", "discussion/solution", "testimonial", "prereq",
        "keypoints"]
    challenge = body_of(ep.text, "challenge")
    assert challenge.lstrip().startswith("## Check the temperature")
    # the lazy line (no '>') belongs to the quote it continues
    assert "What temperature suits green tea?\nthis line continues the question lazily." in challenge
    assert "```bash\n$ thermometer --read\n```" in challenge
    assert "SOLUTION-GREEN-80" in body_of(ep.text, "solution", 0)
    assert "SOLUTION-NESTED-DEEP" in body_of(ep.text, "solution", 2)
    assert "SOLUTION-IN-DISCUSSION" in body_of(ep.text, "solution", 3)
    assert "Look at the packet." in body_of(ep.text, "hint")
    # outer divs have more colons than the divs inside them
    fences = [line for line in ep.text.split("\n") if DIV_RE.match(line)]
    assert fences[fences.index(next(f for f in fences if f.endswith(" challenge")))].count(":") == 5
    assert not re.search(r"^\s*>", challenge, re.M) and "{:" not in ep.text
    # the closing fence of the challenge points at its `{: .challenge}` line
    closing = ep.text.split("\n").index(":::::")
    assert ep.lines[closing] == line_of(LESSON / ep.source, "{: .challenge}")


def test_code_annotations_become_fenced_code_with_their_language():
    lesson, _ = read(LESSON)
    text = episode(lesson, "01-kettle.md").text
    assert "```bash\n$ kettle --boil\n```" in text
    assert "```output\nBoiling... done.\n```" in text
    assert "```error\nkettle: no water\n```" in text
    assert "```bash\n$ kettle --old-style\n```" in text          # the old `{: .bash}`
    assert "```bash\n$ kettle --indented\n```" in text           # an indented block and its class
    assert "~~~" not in text


def test_more_code_forms(tmp_path):
    lesson = make_lesson(tmp_path, {"01-code.md": """\
~~~ {.python}
>>> 1 + 1
~~~

~~~
head -n 3 file.txt
~~~
{: .source}

~~~
```
a line of backticks inside
~~~
{: .python}

> ~~~
> $ echo in a box
> ~~~
> {: .language-bash}
{: .callout}
"""})
    converted, problems = read(lesson)
    text = converted.episodes[0].text
    assert problems.items == []
    assert "```python\n>>> 1 + 1\n```" in text          # '>>>' in code is no blockquote
    assert "```source\nhead -n 3 file.txt\n```" in text
    assert "````python\n```\na line of backticks inside\n````" in text
    assert "```bash\n$ echo in a box\n```" in body_of(text, "callout")


def test_liquid_is_resolved_or_removed_so_paths_work():
    lesson, problems = read(LESSON)
    kettle, steeping = episode(lesson, "01-kettle.md"), episode(lesson, "02-steeping.md")
    # {{ page.root }}/fig/x and ../fig/x (relative to the episode's page) both name fig/x in the lesson
    assert "![A kettle on a stove](fig/kettle.svg)" in kettle.text
    assert "![A cup](fig/cup.png)" in kettle.text
    assert kettle.figures == ("fig/kettle.svg", "fig/cup.png")
    assert lesson.setup.figures == ("fig/kettle.svg",)
    assert "[the tea data](data/tea.zip)" in lesson.setup.text
    # {{ page.title }}, and {% link %} to another page
    assert "A page from the oldest lessons, in Steeping." in steeping.text
    assert "[setup](setup.md)" in steeping.text
    assert "[the first episode](01-kettle.md#check-the-temperature)" in steeping.text
    # {% include links.md %} is dropped, and the shared definitions the page uses are added
    assert "[kettle-manual]: https://kettle.example.org/manual" in kettle.text
    assert "[unused]" not in kettle.text
    for ep in lesson.episodes + (lesson.setup, lesson.instructor_notes):
        assert "{%" not in ep.text and "{{" not in ep.text and "\x00" not in ep.text
    assert problems.items == []


def test_the_oldest_heading_syntax():
    lesson, _ = read(LESSON)
    text = episode(lesson, "02-steeping.md").text
    assert structure(text) == ["objectives", "challenge", "challenge"]
    assert body_of(text, "objectives").strip() == "* Steep for the right time."  # no heading in objectives
    assert body_of(text, "challenge", 0).strip().startswith("## How long?\n")
    second = body_of(text, "challenge", 1)
    assert second.strip() == "## Pouring\n\nPour without spilling."  # runs to the next `##` heading
    assert "{." not in text and "## After pouring" in text


def test_an_oldest_heading_box_runs_past_a_heading_inside_code(tmp_path):
    # The box ends at the next `##` heading outside code. Inside a four-backtick block, a
    # three-backtick line is code, not the block's end, and so is the `##` after it.
    lesson = make_lesson(tmp_path, {"01-box.md": """\
## Try it {.challenge}

````
```
## INSIDE-CODE not a heading
````

BOX-TAIL still in the box.

## After the box
"""})
    converted, _ = read(lesson)
    text = converted.episodes[0].text
    assert structure(text) == ["challenge"]
    box = body_of(text, "challenge")
    assert "## INSIDE-CODE not a heading" in box and "BOX-TAIL still in the box." in box
    assert "## After the box" not in box


def test_r_markdown_is_read_from_the_rmd_and_its_chunks_stay_code():
    lesson, _ = read(LESSON)
    milk = episode(lesson, "03-milk.Rmd")
    assert "KNITTED-COPY" not in milk.text
    assert "```r\nmilk <- c(10, 20, 30)\nmean(milk)\n```" in milk.text
    assert "chunk-options" not in milk.text  # a chunk the lesson does not show (include=FALSE)


def test_a_plain_quote_stays_a_quote_and_a_box_inside_it_does_not(tmp_path):
    lesson = make_lesson(tmp_path, {"01-quote.md": """\
> Words worth quoting.
>
> > ## Solution
> > QUOTED-SOLUTION
> {: .solution}
>
> More words.
"""})
    converted, problems = read(lesson)
    text = converted.episodes[0].text
    assert problems.items == []
    assert structure(text) == ["solution"]
    assert "> Words worth quoting." in text and "> More words." in text
    # a solution written inside a plain quote is still a div (never quoted participant text)
    assert "QUOTED-SOLUTION" in body_of(text, "solution")
    assert not re.search(r"^>.*QUOTED-SOLUTION", text, re.M)


# ---- problems -------------------------------------------------------------------------------------

def test_mistakes_are_reported_at_their_source_lines():
    lesson, problems = read(MISTAKES)
    path = MISTAKES / "_episodes" / "01-mistakes.md"
    found = {(p.path, p.line, p.severity) for p in problems.items}
    where = "_episodes/01-mistakes.md"
    assert (where, line_of(path, "{: .solution}"), "error") in found   # closes nothing
    assert (where, line_of(path, "{: .sidebar}"), "warning") in found  # an unknown class
    assert (where, line_of(path, "site.nothing_here"), "warning") in found
    second = [n for n, line in enumerate(path.read_text().split("\n"), 1) if line == "{: .challenge}"][1]
    assert (where, second, "error") in found                            # a second class for one quote
    messages = " | ".join(p.message for p in problems.items)
    assert "closes nothing" in messages and "unknown box class '.sidebar'" in messages
    assert "{{ site.nothing_here }}" in messages
    # the unknown box is kept as a plain quote, its text intact
    text = lesson.episodes[0].text
    assert "> ## A box of an unknown kind\n> Its text stays, as a quote." in text
    # the challenge before the stray attribute line is still one
    assert structure(text) == ["objectives", "challenge", "challenge/solution"]


def test_timings_and_yaml_booleans_are_passed_on_at_their_lines():
    """`teaching: 10 minutes` and `start: yes` reach the Workbench text as written, at their
    own source lines: the Workbench reader, which judges every episode's front matter,
    reports them there."""
    lesson, _ = read(MISTAKES)
    ep = lesson.episodes[0]
    path = MISTAKES / ep.source
    for line in ("teaching: 10 minutes", "start: yes"):
        assert line in ep.text.split("---\n")[1]
        assert source_line(ep, MISTAKES, line) == line_of(path, line)


def test_the_workbench_reader_reports_them_at_the_original_lines():
    carpentries = pytest.importorskip("kit.carpentries")
    if not hasattr(carpentries, "read_lesson"):
        pytest.skip("the importer is not there yet")
    problems = Problems(MISTAKES.resolve())
    carpentries.read_lesson(MISTAKES, problems)
    path = MISTAKES / "_episodes" / "01-mistakes.md"
    lines = {(p.path, p.line) for p in problems.items}
    assert ("_episodes/01-mistakes.md", line_of(path, "teaching: 10 minutes")) in lines
    assert ("_episodes/01-mistakes.md", line_of(path, "start: yes")) in lines
    remote = [p for p in problems.items if "images.example.org" in p.message]
    assert len(remote) == 1  # reported once, by the reader that decides what to do with it
    assert remote[0].line == line_of(path, "images.example.org/teapot.png")  # through the line map


def test_a_front_matter_that_is_not_yaml():
    lesson, problems = read(MISTAKES)
    broken = [p for p in problems.items if p.path == "_episodes/02-broken-yaml.md"]
    assert [(p.line, p.severity) for p in broken] == [(6, "error")]
    assert "invalid YAML" in broken[0].message
    ep = episode(lesson, "02-broken-yaml.md")
    # the keys that parse alone are still passed on; the broken one is not (no second report)
    assert ep.text.startswith('---\ntitle: "Broken"\nteaching: 5\n---\n')


def test_an_unclosed_code_block_and_a_page_that_is_no_episode(tmp_path):
    lesson = make_lesson(tmp_path, {"01-open.md": "Text.\n\n~~~\n$ never closed\n",
                                    "99-reference.md": "---\nlayout: reference\ntitle: Glossary\n---\nWords.\n"})
    converted, problems = read(lesson)
    assert [e.source for e in converted.episodes] == ["_episodes/01-open.md"]
    assert [(p.path, p.line, p.severity) for p in sorted(problems.items)] == [
        ("_episodes/01-open.md", 8, "warning"), ("_episodes/99-reference.md", 2, "warning")]
    assert structure(converted.episodes[0].text) == []  # the code block is closed in the output


def test_episode_order_from_the_config(tmp_path):
    lesson = make_lesson(tmp_path, {"a-first.md": "A.\n", "b-second.md": "B.\n"},
                         config='title: "Ordered"\nepisode_order:\n  - b-second\n  - a-first\n  - c-missing\n')
    converted, problems = read(lesson)
    assert [e.source for e in converted.episodes] == ["_episodes/b-second.md", "_episodes/a-first.md"]
    assert [(p.path, p.line, p.severity) for p in problems.items] == [("_config.yml", 5, "error")]


# ---- the lesson is not trusted --------------------------------------------------------------------

def test_nothing_outside_the_lesson_is_read(tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: SECRET-OUTSIDE\nteaching: 1\n---\nSECRET-OUTSIDE\n")
    lesson = make_lesson(tmp_path / "lesson", {"01-ok.md": "Fine.\n"})
    (lesson / "_episodes" / "02-link.md").symlink_to(secret)
    (lesson / "setup.md").symlink_to(secret)
    converted, problems = read(lesson)
    assert [e.source for e in converted.episodes] == ["_episodes/01-ok.md"]
    assert converted.setup is None
    assert {(p.path, p.severity) for p in problems.items} == {("_episodes/02-link.md", "error"),
                                                              ("setup.md", "error")}
    assert all("outside the lesson" in p.message for p in problems.items)


def test_a_linked_episodes_folder_outside_the_lesson_is_not_listed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "01-x.md").write_text("---\ntitle: ELSEWHERE\n---\n")
    lesson = tmp_path / "lesson"
    lesson.mkdir()
    (lesson / "_config.yml").write_text("title: T\n")
    (lesson / "_episodes").symlink_to(elsewhere)
    converted, problems = read(lesson)
    assert converted.episodes == ()
    assert [(p.path, p.severity) for p in problems.items] == [("_episodes", "error")]


def test_oversized_and_special_files_are_refused(tmp_path):
    lesson = make_lesson(tmp_path, {"01-big.md": "x" * (1024 * 1024 + 10)})
    os.mkfifo(lesson / "_episodes" / "02-pipe.md")  # would block a plain read
    converted, problems = read(lesson)
    assert converted.episodes == ()
    assert {(p.path, p.severity) for p in problems.items} == {("_episodes/01-big.md", "error"),
                                                              ("_episodes/02-pipe.md", "error")}


def test_deep_blockquotes_are_bounded(tmp_path):
    deep = "> " * (MAX_NESTING + 30) + "deep\n"
    lesson = make_lesson(tmp_path, {"01-deep.md": deep * 200})
    converted, problems = read(lesson)
    assert [(p.line, p.severity) for p in problems.items] == [(6, "error")]  # the first line of the body
    assert "nested more than" in problems.items[0].message


# ---- the real lessons -----------------------------------------------------------------------------

REAL = sorted(p for p in SHARED.glob("*") if (p / "_config.yml").is_file()) if SHARED.is_dir() else []


@pytest.mark.skipif(not REAL, reason="no Jekyll lessons in ../shared/carpentries")
@pytest.mark.parametrize("lesson_dir", REAL, ids=[p.name for p in REAL])
def test_real_lessons_convert_without_errors(lesson_dir):
    lesson, problems = read(lesson_dir)
    assert problems.errors == []
    assert lesson.episodes and lesson.title
    for ep in lesson.episodes + tuple(x for x in (lesson.setup, lesson.instructor_notes) if x):
        assert len(ep.lines) == ep.text.count("\n")
        source_lines = (lesson_dir / ep.source).read_text().count("\n") + 1
        assert all(1 <= line <= source_lines for line in ep.lines)
        structure(ep.text)  # balanced divs and code
        assert not re.search(r"^\s*\{:", ep.text, re.M)  # no kramdown attribute line is left
        assert "{% include" not in ep.text and "{{ page.root }}" not in ep.text


@pytest.mark.skipif(not (SHARED / "shell-novice-styles").is_dir() or not (SHARED / "shell-novice-workbench").is_dir(),
                    reason="the Unix Shell lesson in both formats is not in ../shared/carpentries")
def test_both_formats_of_the_shell_lesson_have_the_same_challenges_and_solutions():
    lesson, _ = read(SHARED / "shell-novice-styles")
    for ep in lesson.episodes:
        name = Path(ep.source).name
        workbench = (SHARED / "shell-novice-workbench" / "episodes" / name).read_text()

        def boxes(text: str) -> list[str]:
            return [path for path in structure(text) if path.split("/")[-1] in ("challenge", "solution", "hint")]

        assert boxes(ep.text) == boxes(workbench), name


# ---- helpers --------------------------------------------------------------------------------------

def make_lesson(root: Path, episodes: dict[str, str], config: str = 'title: "A Lesson"\n') -> Path:
    """A Jekyll lesson in `root`: each episode gets a front matter unless it brings its own."""
    (root / "_episodes").mkdir(parents=True)
    (root / "_config.yml").write_text(config)
    for name, body in episodes.items():
        text = body if body.startswith("---\n") else f"---\ntitle: {name}\nteaching: 5\nexercises: 5\n---\n{body}"
        (root / "_episodes" / name).write_text(text)
    return root


# ---- any input ------------------------------------------------------------------------------------

TRICKY = ["", "text", "> quote", "> > inner", "> > > deeper", ">", "{: .challenge}", "{: .solution}", "> {: .solution}",
          "{: .output}", "> {: .language-bash}", "{: .nonsense}", "~~~", "```", "````", "> ~~~", "    indented",
          "## Heading {.challenge}", "> ## Title {.objectives}", "# Top", "{% include links.md %}", "{% comment %}",
          "{% endcomment %}", "{% raw %}", "{% endraw %}", "{{ page.root }}/fig/a.png", "![x](../fig/a.png)",
          "{{ site.title }}", "{::comment}", "{:/comment}", "{::options parse_block_html=\"true\" /}", "^",
          "<div>", "```{r, echo=FALSE}", "::: challenge", ":::", "- item", "lazy line", "[ref]: ../fig/b.png",
          "![y][ref]", "<img src=\"../fig/c.png\">"]


def test_any_mix_of_constructs_converts_to_balanced_text_with_valid_lines():
    from hypothesis import HealthCheck, given, settings, strategies as st

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(TRICKY), max_size=40))
    def check(body_lines):
        from kit.carpentries.jekyll import _Page, _Reader

        text = "---\ntitle: T\nteaching: 5\nquestions: [a]\nkeypoints: [b]\n---\n" + "\n".join(body_lines) + "\n"
        reader = _Reader(Path("/nonexistent"), {"title": "T"}, Problems())
        ep = reader.convert_text(text, _Page(source="x.md", root="..", site={"title": "T"}), episode=True)
        assert len(ep.lines) == ep.text.count("\n")
        assert all(1 <= line <= text.count("\n") for line in ep.lines)
        opened = sum(1 for line in ep.text.split("\n") if DIV_RE.match(line) and DIV_RE.match(line).group(2))
        closed = sum(1 for line in ep.text.split("\n") if DIV_RE.match(line) and not DIV_RE.match(line).group(2))
        if not any(":::" in line for line in body_lines):  # the lesson's own colon lines are its own business
            assert opened == closed
        assert "\x00" not in ep.text
        assert not any(re.match(r"\s*\{:(?![:/])", line) for line in prose(ep.text))  # attribute lines used up

    check()


def test_pathological_lines_take_linear_time(tmp_path):
    """Long runs of spaces and unclosed constructs: patterns that backtrack would take minutes."""
    import time

    n = 100_000
    body = ("# a" + " " * n + "b\n" + "## a" + " " * n + "x\n" + "~~~ a" + " " * n + "b\n~~~\n"
            + "{% a" + " " * n + "b\n" + "{{ a" + " " * n + "b\n" + "<img " * (n // 5) + "\n"
            + "x\n" + "    code\n{: .output}\n" * (n // 40) + "![a](b.png)\n" * (n // 24))
    lesson = make_lesson(tmp_path, {"01-slow.md": body})
    start = time.perf_counter()
    converted, _ = read(lesson)
    assert converted.episodes and time.perf_counter() - start < 5


def test_pages_without_a_usable_front_matter(tmp_path):
    lesson = make_lesson(tmp_path, {"01-none.md": "---\n", "02-open.md": "---\ntitle: Never closed\n\nText.\n",
                                    "03-ok.md": "Fine.\n"})
    (lesson / "_episodes" / "01-none.md").write_text("No front matter at all.\n")
    (lesson / "setup.md").write_text("Setup without front matter: ![s]({{ page.root }}/fig/s.png)\n")
    converted, problems = read(lesson)
    assert [e.source for e in converted.episodes] == ["_episodes/03-ok.md"]
    assert [(p.path, p.line, p.severity) for p in sorted(problems.items)] == [
        ("_episodes/01-none.md", 1, "warning"), ("_episodes/02-open.md", 1, "error")]
    assert converted.setup.text.startswith("---\n---\n") and converted.setup.figures == ("fig/s.png",)
