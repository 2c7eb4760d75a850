"""Read a Carpentries lesson in the older Jekyll format ("styles") as Workbench episode text.

Before the Workbench, a Carpentries lesson was a Jekyll site: `_config.yml`, one Markdown file
per episode in `_episodes/` (or R Markdown in `_episodes_rmd/`), the episode's questions,
objectives and key points in its front matter, and boxes written as blockquotes that a kramdown
attribute line closes:

    > ## A challenge
    > What does `ls -F` print?
    >
    > > ## Solution
    > > A listing with a `/` after each folder.
    > {: .solution}
    {: .challenge}

Each episode is rewritten here as the Workbench text the Workbench reader understands (front
matter with the timings, `::: questions` / `::: objectives` / `::: keypoints`, fenced divs for
the boxes, fenced code with its language), together with a line map, so that a problem found
later in the text is still reported at the line of the original file.

The blockquote rules are kramdown's, because kramdown is what rendered these lessons: a quote
runs from a line starting with `>` over every following line, with or without `>`, up to a blank
line or an attribute line; one `>` (and one space) is then removed from each line that has it,
and what is left is read again, so `> >` becomes a quote inside the quote.

The lesson is someone else's folder: nothing outside it is read, no link out of it is followed,
every read is bounded, and nothing is run (R chunks stay code) or fetched (remote images are
reported, not downloaded).
"""
from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kit.errors import Problems
from kit.safefs import inside
from kit.yamlload import YamlProblem, load_yaml

MAX_EPISODES = 300
MAX_NESTING = 20  # blockquotes inside blockquotes; real lessons use three at most

# The box classes of the styles template, as Workbench div kinds.
DIV_CLASSES = frozenset({"challenge", "solution", "hint", "callout", "checklist", "discussion",
                         "testimonial", "prereq", "objectives", "keypoints", "instructor", "spoiler",
                         "caution"})
PLAIN_QUOTE_CLASSES = frozenset({"quotation"})  # a quote that is meant as a quote
UNTITLED_KINDS = frozenset({"objectives", "keypoints", "questions"})  # Workbench gives these no heading
PASSED_KEYS = ("title", "teaching", "exercises", "break", "start")  # front matter kept as written
LIST_KEYS = ("objectives", "questions")  # at the top, as the Workbench has them; keypoints go at the end

# kramdown: an attribute line `{: .class #id key="value"}` (not `{::extension}` nor `{:/}`).
IAL_RE = re.compile(r"^\s*\{:(?![:/])([^{}]*)\}\s*$")
EXTENSION_RE = re.compile(r"^\s*\{::(\w+)([^{}]*?)(/)?\}\s*$")
EXTENSION_END_RE = re.compile(r"\{:/(\w*)\}")
QUOTE_RE = re.compile(r"^ {0,3}>")
QUOTE_STRIP_RE = re.compile(r"^ {0,3}> ?")
EOB_RE = re.compile(r"^\^\s*$")
# kramdown ends a lazy blockquote at a line that opens a block-level HTML element.
HTML_SPAN = ("a|abbr|acronym|b|big|bdo|br|button|cite|code|del|dfn|em|i|img|input|ins|kbd|label|mark|"
             "option|q|rb|rbc|rp|rt|rtc|ruby|samp|select|small|span|strike|strong|sub|sup|textarea|tt|u|var|"
             "script")
HTML_BLOCK_RE = re.compile(rf"^ {{0,3}}</?(?!(?:{HTML_SPAN})\b)[A-Za-z][\w-]*")
# No pattern here has a lazy or repeated part followed by another that can match the same
# characters (such as `(.*?)\s*$`): on a long line of spaces those take quadratic time.
# Whitespace at the ends is stripped in Python instead.
FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
HEADING_RE = re.compile(r"^(#{1,6})(?=\s|$)")
# The oldest lessons (pandoc, 2014-15) put the box class on its heading: `## Title {.challenge}`.
OLD_CLASS_RE = re.compile(r"\{\s*\.([\w-]+)\s*\}$")
HEADING_ID_RE = re.compile(r"\{(?:#[\w-]+|:[^{}]*)\}$")  # `## Title {#id}`, `## Title {: .no_toc}`
INLINE_IAL_RE = re.compile(r"(?<=[)\]*_`])\{:[^{}\n]*\}")
CLASS_RE = re.compile(r"\.([\w-]+)")
RMD_INFO_RE = re.compile(r"^\{\s*([A-Za-z]\w*)\s*[, ]?(.*)\}$")
RMD_HIDDEN_RE = re.compile(r"\b(include|echo)\s*=\s*(FALSE|F)\b")

LIQUID_RE = re.compile(r"\{%([^%]*)%\}|\{\{([^{}]*)\}\}")
ROOT = "\x00root\x00"  # {{ page.root }} until the text around it is known (NUL never reaches here)
LINK_RE = re.compile("\x00link:([^\x00]*)\x00/?")

IMAGE_RE = re.compile(r"(!\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?)([^\s)<>]+)(>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))")
IMAGE_REF_RE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\[([^\[\]]*)\]")
REF_DEF_RE = re.compile(r"^(\s{0,3}\[([^\[\]]+)\]:\s*<?)(\S+?)(>?(?:\s.*)?)$")
HTML_IMG_RE = re.compile(r"(<img\b[^<>]*?\bsrc\s*=\s*[\"'])([^\"']+)([\"'])", re.IGNORECASE)
REF_USE_RE = re.compile(r"\]\[([^\[\]]+)\]")
REMOTE_RE = re.compile(r"^(?:[A-Za-z][\w+.-]*:)?//")


@dataclass(frozen=True)
class ConvertedEpisode:
    source: str  # the file, relative to the lesson folder: "_episodes/01-intro.md"
    text: str  # Workbench episode text: front matter, fenced divs, fenced code
    lines: tuple[int, ...]  # lines[i]: the line of `source` that line i + 1 of `text` comes from
    # Images in the order they appear, as they stand in `text`: URLs, or paths relative to the
    # lesson folder (an episode's `../fig/x.png` and `{{ page.root }}/fig/x.png` both become
    # `fig/x.png`). Not checked here: whether each exists and lies inside the lesson is the
    # reader's to check, since it copies them.
    figures: tuple[str, ...]


@dataclass(frozen=True)
class JekyllLesson:
    title: str  # _config.yml's title
    episodes: tuple[ConvertedEpisode, ...]  # in lesson order
    setup: ConvertedEpisode | None  # setup.md
    instructor_notes: ConvertedEpisode | None  # _extras/guide.md


# One line of output: its text, the source line it comes from, and what it is
# ("text", "code", "open" or "close" for a div's fences).
@dataclass
class _Out:
    text: str
    line: int
    kind: str = "text"


@dataclass
class _Page:
    """What the conversion of one file needs to know and collects."""

    source: str  # relative to the lesson folder
    root: str  # {{ page.root }}: ".." for a page one folder down (episodes, extras), "." at the top
    site: dict
    front: dict = field(default_factory=dict)
    front_lines: dict = field(default_factory=dict)  # the line of each front matter key
    include_line: int = 0  # the line of `{% include links.md %}`, if any
    warned: set = field(default_factory=set)


def read_jekyll_lesson(lesson_dir: Path, problems: Problems) -> JekyllLesson:
    """The lesson in `lesson_dir` (with `_config.yml` and `_episodes/`), each page converted to
    Workbench text. Problems are added to `problems`, with paths relative to `lesson_dir`."""
    lesson = Path(lesson_dir).resolve()
    config = _read_config(lesson, problems)
    title = config.get("title") if isinstance(config.get("title"), str) else None
    if not title:
        problems.warning("_config.yml", 1, "the lesson has no 'title'; its folder's name is used")
        title = lesson.name
    reader = _Reader(lesson, config, problems)
    episodes = []
    for path in _episode_files(lesson, config, problems):
        episode = reader.convert_file(path, episode=True)
        if episode is not None:
            episodes.append(episode)
    setup = reader.convert_file(lesson / "setup.md") if _exists(lesson / "setup.md") else None
    guide = lesson / "_extras" / "guide.md"
    notes = reader.convert_file(guide) if _exists(guide) else None
    return JekyllLesson(title=title, episodes=tuple(episodes), setup=setup, instructor_notes=notes)


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _rel(path: Path, lesson: Path) -> str:
    try:
        return path.relative_to(lesson).as_posix()
    except ValueError:
        return str(path)


def _read_text(path: Path, lesson: Path, problems: Problems) -> str | None:
    """The text of a file inside the lesson, or None (and a problem) when it cannot be read:
    the importer's one bounded reader, kit.carpentries.workbench.read_lesson_text."""
    from kit.carpentries.workbench import read_lesson_text

    return read_lesson_text(lesson, _rel(path, lesson), problems)


def _read_config(lesson: Path, problems: Problems) -> dict:
    path = lesson / "_config.yml"
    if not _exists(path):
        problems.error("_config.yml", 1, "no _config.yml: this is not a Jekyll lesson")
        return {}
    text = _read_text(path, lesson, problems)
    if text is None:
        return {}
    try:
        data = load_yaml(text)
    except YamlProblem as problem:
        problems.error("_config.yml", problem.line, problem.message)
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.error("_config.yml", 1, "_config.yml should be a mapping of settings")
        return {}
    return data


def _episode_files(lesson: Path, config: dict, problems: Problems) -> list[Path]:
    """The episodes' files in lesson order: by file name, as Jekyll orders a collection, or in
    `episode_order` when _config.yml gives one. An episode written in R Markdown is read from
    its .Rmd (in `_episodes_rmd/`, else `_episodes/`), never from the .md that knitr made of it:
    the .Rmd is what its authors wrote, and the knitted copy holds output of code we do not run."""
    by_name: dict[str, Path] = {}
    rank = {".md": 0, ".rmd": 1}  # a higher rank wins: .Rmd over the knitted .md
    for folder_name in ("_episodes", "_episodes_rmd"):
        folder = lesson / folder_name
        if not _exists(folder):
            continue
        if not inside(folder, lesson) or not folder.is_dir():
            problems.error(folder_name, 1, "not a folder inside the lesson; it is not read")
            continue
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.error(folder_name, 1, f"cannot list the folder: {exc.strerror or exc}")
            continue
        for entry in entries:
            stem, ext = os.path.splitext(entry.name)
            ext = ext.lower()
            if entry.name.startswith(".") or ext not in rank:
                continue
            if folder_name == "_episodes_rmd" and ext != ".rmd":
                continue  # only the R Markdown sources live here
            best = by_name.get(stem)
            if best is None or rank[ext] > rank[best.suffix.lower()] or (
                    rank[ext] == rank[best.suffix.lower()] and folder_name == "_episodes_rmd"):
                by_name[stem] = folder / entry.name
    if not by_name and not problems.errors:
        problems.error("_episodes", 1, "the lesson has no episodes (_episodes/*.md or _episodes_rmd/*.Rmd)")
    names = sorted(by_name)
    order = config.get("episode_order")
    if isinstance(order, list) and order:
        wanted = [os.path.splitext(str(name))[0] for name in order]
        lines = getattr(order, "lines", [1] * len(order))
        for name, line in zip(wanted, lines):
            if name not in by_name:
                problems.error("_config.yml", line, f"episode_order names '{name}', which is not an episode")
        names = [name for name in wanted if name in by_name]
    if len(names) > MAX_EPISODES:
        problems.error("_episodes", 1, f"{len(names)} episodes: at most {MAX_EPISODES} are read")
        names = names[:MAX_EPISODES]
    return [by_name[name] for name in names]


class _Reader:
    def __init__(self, lesson: Path, config: dict, problems: Problems):
        self.lesson = lesson
        self.site = config
        self.problems = problems
        self._link_defs: dict[str, str] | None = None

    # ---- one file ---------------------------------------------------------------------------

    def convert_file(self, path: Path, episode: bool = False) -> ConvertedEpisode | None:
        source = _rel(path, self.lesson)
        text = _read_text(path, self.lesson, self.problems)
        if text is None:
            return None
        top_level = "/" not in source
        page = _Page(source=source, root="." if top_level else "..", site=self.site)
        return self.convert_text(text, page, episode)

    def convert_text(self, text: str, page: _Page, episode: bool = False) -> ConvertedEpisode | None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        head, body_start = self._front_matter(lines, page)
        if head == []:  # a front matter never closed: reported, and nothing more can be read
            return None
        if head is None:
            if episode:
                self.problems.warning(page.source, 1, "no front matter (a '---' block at the top): Jekyll "
                                                      "does not publish it as an episode, so it is not imported")
                return None
            head = [_Out("---", 1), _Out("---", 1)]
        layout = page.front.get("layout")
        if episode and isinstance(layout, str) and layout not in ("episode", "page"):
            self.problems.warning(page.source, page.front_lines.get("layout", 1),
                                  f"layout '{layout}' is not an episode's: the page is not imported as one")
            return None
        body = [(line, number) for number, line in enumerate(lines[body_start:], start=body_start + 1)]
        body = self._liquid(body, page)
        out = self._convert(body, page, 0)
        out = self._lists(page, LIST_KEYS) + out + self._lists(page, ("keypoints",))
        out = _tidy(out)
        out = head + ([_Out("", head[-1].line)] if out else []) + out
        figures = self._figures(out, page)
        out += self._included_links(out, page)
        return ConvertedEpisode(source=page.source, text="\n".join(o.text for o in out) + "\n",
                                lines=tuple(o.line for o in out), figures=tuple(figures))

    # ---- front matter -----------------------------------------------------------------------

    def _front_matter(self, lines: list[str], page: _Page) -> tuple[list[_Out] | None, int]:
        """The Workbench front matter (the keys it shares with Jekyll's, as written) and the index
        of the body's first line; (None, 0) when the file has no front matter, ([], ...) when it
        is never closed."""
        if not lines or lines[0].rstrip() != "---":
            return None, 0
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
        if end is None:
            self.problems.error(page.source, 1, "the front matter is never closed (no second '---' line)")
            return [], len(lines)
        yaml_text = "\n".join(lines[1:end])
        try:
            data = load_yaml(yaml_text, line_offset=1)
        except YamlProblem as problem:
            self.problems.error(page.source, problem.line, problem.message)
            data = None
        if data is not None and not isinstance(data, dict):
            self.problems.error(page.source, 2, "the front matter should be a mapping ('title: ...' lines)")
            data = None
        page.front = data or {}
        page.front_lines = dict(getattr(data, "lines", {}) or {})
        # The keys the Workbench shares are passed on as written, at their own lines, so that the
        # Workbench reader judges them (a timing that is not a number, `start: yes`) where they
        # stand. When the whole does not parse (reported above), a key is passed on only if it
        # parses alone, so that the same mistake is not reported twice.
        extents: dict[str, list[int]] = {}
        key = None
        for index in range(1, end):
            line = lines[index]
            match = re.match(r"^([A-Za-z_][\w-]*)\s*:", line)
            if match:
                key = match.group(1)
            elif line and not line[0].isspace() and not line.startswith(("-", "#")):
                key = None
            if key in PASSED_KEYS:
                extents.setdefault(key, []).append(index)
        head = [_Out("---", 1)]
        for indexes in sorted(extents.values()):
            if data is None and not _parses("\n".join(lines[k] for k in indexes)):
                continue
            head.extend(_Out(lines[k], k + 1) for k in indexes)
        head.append(_Out("---", end + 1))
        return head, end + 1

    def _lists(self, page: _Page, keys: tuple[str, ...]) -> list[_Out]:
        """The front matter's questions, objectives or keypoints as Workbench divs of bullets."""
        out: list[_Out] = []
        lines = page.front_lines
        for key in keys:
            if key not in page.front or page.front[key] is None:
                continue
            value, at = page.front[key], lines.get(key, 1)
            if isinstance(value, str):
                value, item_lines = [value], [at]
            elif isinstance(value, list):
                item_lines = list(getattr(value, "lines", [at] * len(value)))
            else:
                self.problems.error(page.source, at, f"'{key}' should be a list of text")
                continue
            bullets = []
            for item, line in zip(value, item_lines):
                if item is None:
                    continue
                if isinstance(item, dict):  # `- Explain: the thing` reads as a mapping
                    self.problems.warning(page.source, line, f"this item of '{key}' holds ': ', so YAML reads it "
                                                             "as a mapping; put it in quotes")
                    item = "; ".join(f"{k}: {v}" for k, v in item.items())
                elif isinstance(item, list):
                    self.problems.warning(page.source, line, f"this item of '{key}' is a list; put it in quotes")
                    item = ", ".join(str(i) for i in item)
                text = " ".join(str(item).split())
                if text:
                    bullets.append(_Out(f"- {text}", line))
            if bullets:
                out += [_Out("", at), _Out(f":::: {key}", at, "open"), _Out("", at), *bullets,
                        _Out("", at), _Out("::::", at, "close"), _Out("", at)]
        return out

    # ---- Liquid -----------------------------------------------------------------------------

    def _liquid(self, body: list[tuple[str, int]], page: _Page) -> list[tuple[str, int]]:
        """The body with Liquid resolved or removed, line for line (a line that held only Liquid
        tags is left empty, as Jekyll leaves it)."""
        state = {"raw": False, "comment": False}
        return [(self._liquid_line(text, line, page, state), line) for text, line in body]

    def _liquid_line(self, text: str, line: int, page: _Page, state: dict) -> str:
        if "{" not in text and not state["comment"]:
            return text
        parts: list[str] = []
        pos = 0
        had_tag = False
        for match in LIQUID_RE.finditer(text):
            before = text[pos:match.start()]
            pos = match.end()
            inside_tag = match.group(1).strip("-").strip() if match.group(1) is not None else None
            words = inside_tag.split(None, 1) if inside_tag else []
            tag = (words[0] if words else "") if inside_tag is not None else None
            argument = words[1] if len(words) > 1 else ""
            if state["comment"]:
                if tag == "endcomment":
                    state["comment"] = False
                continue
            parts.append(before)
            if state["raw"]:
                if tag == "endraw":
                    state["raw"] = False
                else:
                    parts.append(match.group(0))
                continue
            if tag is None:
                parts.append(self._liquid_output(match.group(2).strip("-").strip(), line, page))
                continue
            had_tag = True
            if tag == "raw":
                state["raw"] = True
            elif tag == "comment":
                state["comment"] = True
            elif tag == "link":
                parts.append(f"\x00link:{_link_target(argument)}\x00")
            elif tag == "include" and argument.split()[:1] == ["links.md"]:
                page.include_line = page.include_line or line  # shared link definitions: _included_links
            else:
                self._warn_once(page, line, f"the Liquid tag '{match.group(0)}' cannot be run here and is "
                                            "removed (any text it wraps is kept)")
        if not state["comment"]:
            parts.append(text[pos:])
        result = "".join(parts)
        if ROOT in result:
            result = result.replace(ROOT + "\x00link:", "\x00link:")
            result = re.sub(re.escape(ROOT) + "/+", "", result)
            result = result.replace(ROOT, ".")  # paths in the converted text are relative to the lesson
        result = LINK_RE.sub(lambda m: m.group(1), result)
        if (had_tag or state["comment"]) and not result.strip():
            return ""
        return result

    def _liquid_output(self, expression: str, line: int, page: _Page) -> str:
        name = expression.split("|")[0].strip()
        if name == "page.root":
            return ROOT
        scope, _, path = name.partition(".")
        value: object = {"page": page.front, "site": page.site}.get(scope)
        for part in path.split(".") if path else ["\x00"]:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        self._warn_once(page, line, f"cannot resolve the Liquid value '{{{{ {expression} }}}}'; it is removed")
        return ""

    def _warn_once(self, page: _Page, line: int, message: str) -> None:
        if (line, message) not in page.warned:
            page.warned.add((line, message))
            self.problems.warning(page.source, line, message)

    # ---- blocks -----------------------------------------------------------------------------

    def _convert(self, lines: list[tuple[str, int]], page: _Page, depth: int) -> list[_Out]:
        """Convert the blocks of one container (the page, or the inside of a blockquote)."""
        out: list[_Out] = []
        previous = "start"  # the block just before: start, blank, text, code, quote, attributes
        # Where the indented lines at the end of `out` begin (an indented code block, if a blank
        # line or the container's start is before them), kept up to date as lines are added.
        indented: int | None = None
        i, count = 0, len(lines)
        while i < count:
            text, line = lines[i]
            if not text.strip():
                out.append(_Out("", line))
                previous = "blank"
                i += 1
                continue
            ial = IAL_RE.match(text)
            if not ial and (not _indented(text) or previous not in ("blank", "start", "text")):
                indented = None
            fence = FENCE_RE.match(text)
            if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):  # `` ```a`b `` is no fence
                i = self._code(lines, i, fence, out, page)
                previous = "code"
                continue
            if QUOTE_RE.match(text):
                i = self._quote(lines, i, out, page, depth)
                previous = "quote"
                continue
            if ial:
                classes = CLASS_RE.findall(ial.group(1))
                if classes and not self._code_after_indented(out, indented, classes, line):
                    self._stray_attributes(classes, previous, line, page)
                indented = None
                previous = "attributes"
                i += 1
                continue
            extension = EXTENSION_RE.match(text)
            if extension:
                i = self._extension(lines, i, extension, out)
                continue
            old = _old_heading(text)
            if old and old[2] in DIV_CLASSES:
                i = self._old_heading_section(lines, i, old, out, page, depth)
                previous = "quote"
                continue
            if HEADING_RE.match(text):
                text = HEADING_ID_RE.sub("", text.rstrip()).rstrip()
            if _indented(text) and indented is None and (not out or out[-1].text == "") and previous != "text":
                indented = len(out)
            out.append(_Out(INLINE_IAL_RE.sub("", text), line))
            previous = "text"
            i += 1
        return out

    def _code(self, lines, i: int, fence: re.Match, out: list[_Out], page: _Page) -> int:
        """A fenced code block from lines[i]; the attribute line after it, if any, names its
        language. Returns the index after what was read."""
        indent, info = fence.group(1), fence.group(3).strip()
        start_line = lines[i][1]
        j = _fence_end(lines, i, fence)
        body = lines[i + 1:j]
        if j >= len(lines):
            self.problems.warning(page.source, start_line, "this code block is never closed: it runs to the end "
                                                           "of its box or page")
            end_line = lines[-1][1]
            after = j
        else:
            end_line = lines[j][1]
            after = j + 1
        language = info.split()[0] if info else ""
        rmd = RMD_INFO_RE.match(info) if info.startswith("{") else None
        if info.startswith("{") and not rmd:  # pandoc's `~~~ {.python}`, kramdown's `~~~ {: .python}`
            language = _language(CLASS_RE.findall(info) or [""])
        if rmd:
            language = rmd.group(1).lower()
            if RMD_HIDDEN_RE.search(rmd.group(2)):
                # A chunk the lesson does not show (its code, and so what we could show of it):
                # setup chunks, or figures made by running R, which the import never does.
                if re.search(r"\becho\s*=\s*(FALSE|F)\b", rmd.group(2)) and not re.search(
                        r"\binclude\s*=\s*(FALSE|F)\b", rmd.group(2)):
                    self.problems.warning(page.source, start_line,
                                          "this R chunk shows only its output, made by running R; the import runs "
                                          "no code, so it is left out")
                for _, number in lines[i:after]:
                    out.append(_Out("", number))
                return after
        if after < len(lines):
            ial = IAL_RE.match(lines[after][0])
            classes = CLASS_RE.findall(ial.group(1)) if ial else []
            if classes and not any(c in DIV_CLASSES for c in classes):
                language = _language(classes)
                after += 1
        ticks = max([3] + [len(m.group(1)) + 1 for text, _ in body if (m := re.match(r"\s*(`+)", text))])
        out.append(_Out(f"{indent}{'`' * ticks}{language}", start_line, "code"))
        out.extend(_Out(text, number, "code") for text, number in body)
        out.append(_Out(f"{indent}{'`' * ticks}", end_line, "code"))
        return after

    def _code_after_indented(self, out: list[_Out], start: int | None, classes: list[str], line: int) -> bool:
        """An attribute line with a code class right after an indented code block (its lines
        are out[start:]): turn the block into fenced code with that language. False when
        there is no such block."""
        if start is None or any(c in DIV_CLASSES for c in classes) or not _indented(out[-1].text):
            return False
        block = out[start:]
        del out[start:]
        language = _language(classes)
        out.append(_Out(f"```{language}", block[0].line, "code"))
        out.extend(_Out(_dedent(o.text), o.line, "code") for o in block)
        out.append(_Out("```", line, "code"))
        return True

    def _stray_attributes(self, classes: list[str], previous: str, line: int, page: _Page) -> None:
        names = " ".join(f".{c}" for c in classes)
        boxes = [c for c in classes if c in DIV_CLASSES]
        if boxes:
            after = {"start": "the start of its box or page", "blank": "a blank line", "code": "a code block",
                     "attributes": "another attribute line", "quote": "a blockquote that already has its class",
                     }.get(previous, "text that is not a blockquote")
            self.problems.error(page.source, line, f"'{{: {names}}}' closes nothing: it follows {after}, not "
                                                   "a blockquote ('> ...' lines) to make a box of")
        elif previous in ("start", "blank", "attributes", "quote"):
            self.problems.warning(page.source, line, f"'{{: {names}}}' follows no code block and is ignored")
        # After a paragraph or a list a class only styles it (images, tables): nothing to keep.

    def _extension(self, lines, i: int, extension: re.Match, out: list[_Out]) -> int:
        """`{::options .../}` is dropped; `{::comment}...{:/comment}` and `{::nomarkdown}` too."""
        name, closed = extension.group(1), extension.group(3)
        out.append(_Out("", lines[i][1]))
        if closed or name == "options":
            return i + 1
        for j in range(i + 1, len(lines)):
            out.append(_Out("", lines[j][1]))
            if EXTENSION_END_RE.search(lines[j][0]):
                return j + 1
        return len(lines)

    def _quote(self, lines, i: int, out: list[_Out], page: _Page, depth: int) -> int:
        """A blockquote from lines[i], as kramdown reads it, and the attribute line after it."""
        j = i + 1
        while j < len(lines) and not _lazy_end(lines[j][0]):
            j += 1
        inner = [(QUOTE_STRIP_RE.sub("", text, count=1), number) for text, number in lines[i:j]]
        start_line, end_line = lines[i][1], lines[j - 1][1]
        kind = None
        if j < len(lines) and IAL_RE.match(lines[j][0]):
            classes = CLASS_RE.findall(IAL_RE.match(lines[j][0]).group(1))  # type: ignore[union-attr]
            end_line = lines[j][1]
            j += 1
            kind = next((c for c in classes if c in DIV_CLASSES), None)
            if kind is None and classes and not set(classes) & PLAIN_QUOTE_CLASSES:
                names = " ".join(f".{c}" for c in classes)
                self.problems.warning(page.source, end_line, f"unknown box class '{names}': the blockquote is kept "
                                                             "as a plain quote")
        else:
            kind = _old_heading_kind(inner)
        if depth >= MAX_NESTING:
            self.problems.error(page.source, start_line, f"blockquotes nested more than {MAX_NESTING} deep; "
                                                         "the inner ones are not read")
            out.extend(_Out(text, number) for text, number in lines[i:j])
            return j
        converted = self._convert(inner, page, depth + 1)
        if kind is None:
            out.extend(_plain_quote(converted))
        else:
            out.extend(_div(kind, converted, start_line, end_line))
        return j

    def _old_heading_section(self, lines, i: int, old: tuple[str, str, str], out: list[_Out], page: _Page,
                             depth: int) -> int:
        """`## Title {.challenge}` outside a blockquote (the oldest lessons): the box runs to the
        next heading of the same or a higher level."""
        level = len(old[0])
        j = i + 1
        while j < len(lines):
            text = lines[j][0]
            fence = FENCE_RE.match(text)
            if fence:  # a heading inside code is code: the box goes on past the block
                j = _fence_end(lines, j, fence) + 1
                continue
            heading = HEADING_RE.match(text)
            if heading and len(heading.group(1)) <= level:
                break
            j += 1
        j = min(j, len(lines))
        first = (f"{old[0]} {old[1]}", lines[i][1])  # without its class, or it recurses
        converted = self._convert([first, *lines[i + 1:j]], page, depth + 1)
        out.extend(_div(old[2], converted, lines[i][1], lines[j - 1][1]))
        return j

    # ---- images and links -------------------------------------------------------------------

    def _figures(self, out: list[_Out], page: _Page) -> list[str]:
        """Rewrite image paths relative to the lesson folder; return the images in order and
        warn about remote ones."""
        figures: list[str] = []
        run: list[int] = []
        refs: dict[str, str] = {}
        for o in out:
            definition = REF_DEF_RE.match(o.text) if o.kind == "text" else None
            if definition:
                refs[definition.group(2).strip().lower()] = definition.group(3)
        image_refs: set[str] = set()
        for index in range(len(out) + 1):
            if index < len(out) and out[index].kind == "text":
                run.append(index)
                continue
            if run:
                self._figures_in_run(out, run, page, figures, refs, image_refs)
                run = []
        for index, o in enumerate(out):  # reference definitions that images use
            definition = REF_DEF_RE.match(o.text) if o.kind == "text" else None
            if definition and definition.group(2).strip().lower() in image_refs:
                url = self._figure(definition.group(3), o.line, page, figures)
                out[index] = _Out(definition.group(1) + url + definition.group(4), o.line, o.kind)
        return figures

    def _figures_in_run(self, out, run, page, figures, refs, image_refs) -> None:
        text = "\n".join(out[k].text for k in run)
        starts = [0]
        for k in run[:-1]:
            starts.append(starts[-1] + len(out[k].text) + 1)

        def line_at(offset: int) -> int:
            return out[run[bisect.bisect_right(starts, offset) - 1]].line

        def replace(match: re.Match) -> str:
            url = self._figure(match.group(2), line_at(match.start(2)), page, figures)
            return match.group(1) + url + match.group(3)

        new = IMAGE_RE.sub(replace, text)
        new = HTML_IMG_RE.sub(replace, new)
        for match in IMAGE_REF_RE.finditer(new):
            name = (match.group(2) or match.group(1)).strip().lower()
            image_refs.add(name)
            if name not in refs:
                self.problems.warning(page.source, line_at(match.start()),
                                      f"the image '{match.group(0)[:60]}' names a link '{name}' that is not defined")
        if new != text:
            for k, piece in zip(run, new.split("\n")):
                out[k] = _Out(piece, out[k].line, out[k].kind)

    def _figure(self, url: str, line: int, page: _Page, figures: list[str]) -> str:
        if url.startswith("data:"):
            return url
        if REMOTE_RE.match(url):
            pass  # kept as written; the Workbench reader warns that it is not fetched, at this line
        elif url.startswith("/"):
            url = url.lstrip("/")  # the site's root is the lesson's folder
        elif page.root == ".." and url.startswith("../"):
            url = url[3:]  # an episode's page is one folder down from the site's root
        elif url.startswith("./"):
            url = url[2:]
        figures.append(url)
        return url

    def _included_links(self, out: list[_Out], page: _Page) -> list[_Out]:
        """`{% include links.md %}` gives every page the lesson's shared link definitions
        (`[name]: url`, in `_includes/links.md`). Those the page uses and does not define
        itself are added at its end, so that its `[text][name]` links still work."""
        if not page.include_line:
            return []
        used = {m.group(1).strip().lower() for o in out if o.kind == "text" for m in REF_USE_RE.finditer(o.text)}
        defined = {m.group(2).strip().lower() for o in out if o.kind == "text" and (m := REF_DEF_RE.match(o.text))}
        shared = self._shared_links()
        added = [_Out(f"[{name}]: {shared[name]}", page.include_line) for name in sorted(used - defined)
                 if name in shared]
        return [_Out("", page.include_line), *added] if added else []

    def _shared_links(self) -> dict[str, str]:
        """The definitions of `_includes/links.md` whose Liquid resolves to a URL."""
        if self._link_defs is None:
            self._link_defs = {}
            path = self.lesson / "_includes" / "links.md"
            text = _read_text(path, self.lesson, self.problems) if _exists(path) else None
            quiet = _Reader(self.lesson, self.site, Problems())  # what does not resolve is left out, silently
            page = _Page(source="_includes/links.md", root=".", site=self.site)
            for number, raw in enumerate((text or "").split("\n"), start=1):
                resolved = quiet._liquid_line(raw, number, page, {"raw": False, "comment": False})
                definition = REF_DEF_RE.match(resolved)
                if definition and not quiet.problems.items:
                    self._link_defs[definition.group(2).strip().lower()] = definition.group(3)
                quiet.problems.items.clear()
        return self._link_defs


# ---- helpers ------------------------------------------------------------------------------------

def _parses(yaml_text: str) -> bool:
    try:
        load_yaml(yaml_text)
    except YamlProblem:
        return False
    return True


def _lazy_end(text: str) -> bool:
    """Whether a line ends a blockquote that kramdown would otherwise continue lazily."""
    return (not text.strip() or bool(IAL_RE.match(text)) or bool(EOB_RE.match(text))
            or bool(HTML_BLOCK_RE.match(text)))


def _fence_end(lines: list[tuple[str, int]], i: int, fence: re.Match) -> int:
    """The index of the line that closes the code block opened by `fence` at lines[i] (the
    same mark, at least as long, alone on its line), or len(lines) if nothing closes it."""
    marks = fence.group(2)
    closing = re.compile(rf"^\s*{re.escape(marks[0])}{{{len(marks)},}}\s*$")
    j = i + 1
    while j < len(lines) and not closing.match(lines[j][0]):
        j += 1
    return j


def _old_heading_kind(inner: list[tuple[str, int]]) -> str | None:
    """`> ## Title {.challenge}`: the oldest lessons named a quote's box on its heading. The
    heading is rewritten without the class; returns the class, if it is a box."""
    for index, (text, line) in enumerate(inner):
        if not text.strip():
            continue
        old = _old_heading(text)
        if old and old[2] in DIV_CLASSES:
            inner[index] = (f"{old[0]} {old[1]}", line)
            return old[2]
        return None
    return None


def _old_heading(text: str) -> tuple[str, str, str] | None:
    """(hashes, title, class) of `## Title {.class}`, else None."""
    heading = HEADING_RE.match(text)
    if not heading:
        return None
    rest = text.rstrip()
    tail = OLD_CLASS_RE.search(rest)
    if not tail:
        return None
    return heading.group(1), rest[len(heading.group(1)):tail.start()].strip(), tail.group(1)


def _div(kind: str, inner: list[_Out], start_line: int, end_line: int) -> list[_Out]:
    """A Workbench fenced div around converted lines: more colons than any div inside it."""
    if kind in UNTITLED_KINDS:
        first = next((k for k, o in enumerate(inner) if o.text.strip()), None)
        if first is not None and inner[first].kind == "text" and HEADING_RE.match(inner[first].text):
            inner = inner[:first] + inner[first + 1:]
    widest = max((len(o.text) - len(o.text.lstrip(":")) for o in inner if o.kind in ("open", "close")), default=0)
    colons = ":" * max(3, widest + 1)
    return [_Out("", start_line), _Out(f"{colons} {kind}", start_line, "open"), _Out("", start_line), *inner,
            _Out("", end_line), _Out(colons, end_line, "close"), _Out("", end_line)]


def _plain_quote(inner: list[_Out]) -> list[_Out]:
    """A blockquote that is no box: its lines with '> ' again, except the boxes found inside
    it, which are written outside the quote (a box inside '> ' lines would not be seen as one,
    and a solution in it would reach the learners' page)."""
    out: list[_Out] = []
    depth = 0
    for o in inner:
        if o.kind == "open":
            depth += 1
        if depth:
            out.append(o)
        elif o.text:
            out.append(_Out(f"> {o.text}", o.line, o.kind))
        else:
            out.append(_Out(">", o.line, o.kind))
        if o.kind == "close":
            depth -= 1
    return out


def _tidy(out: list[_Out]) -> list[_Out]:
    """Collapse the runs of blank lines that the divs' own blank lines make (not in code), and
    drop blank lines at the start and the end."""
    tidy: list[_Out] = []
    for o in out:
        if o.kind != "code" and o.text in ("", ">") and tidy and tidy[-1].kind != "code" \
                and tidy[-1].text == o.text:
            continue
        tidy.append(o)
    while tidy and tidy[0].text == "":
        tidy.pop(0)
    while tidy and tidy[-1].text == "":
        tidy.pop()
    return tidy


def _language(classes: list[str]) -> str:
    """The code block's language from its classes: `.language-bash` -> bash, and the older
    `.bash`, `.python`, `.output`, `.error`, `.source` as they are."""
    for name in classes:
        if name.startswith("language-"):
            return name[len("language-"):]
    return classes[0]


def _indented(text: str) -> bool:
    return text.startswith(("    ", "\t"))


def _dedent(text: str) -> str:
    if text.startswith("\t"):
        return text[1:]
    return text[4:] if text.startswith("    ") else text.lstrip(" ")


def _link_target(argument: str) -> str:
    """`{% link _episodes/03-create.md %}`: the page a link names, as a path the reader can
    recognise: another episode by its file name, any other page by its path in the lesson."""
    path = argument.strip().strip("\"'")
    if path.startswith("_episodes/") or path.startswith("_episodes_rmd/"):
        path = path.split("/", 1)[1]
    elif path.startswith("_extras/"):
        path = path.split("/", 1)[1]
    return path
