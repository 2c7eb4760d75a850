"""Read a lesson in the Carpentries Workbench format (sandpaper) into kit.carpentries.lesson.

A Workbench lesson is `config.yaml` (title, `episodes:` order, the site's `url`),
`episodes/*.md|Rmd` (YAML front matter, then Markdown with pandoc fenced divs),
`instructors/instructor-notes.md` and `learners/setup.md`.

The episode reader works on text plus a line map (`lines[i]` is the source line of
line i + 1), so that the Jekyll reader (kit.carpentries.jekyll), which converts an
older episode into this format, gets every problem reported at the original line.

Fenced divs follow pandoc: a line of three or more colons with a name (`::: challenge`,
`::: {.callout}`) opens a div; a line of colons alone closes the innermost open one,
whatever its length. Lines inside ``` or ~~~ code are never structure.

The lesson is not trusted: only files inside its folder are read, never through a
link that leads out, each read is bounded, nothing is fetched and no code is run.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kit.carpentries.lesson import Aside, Episode, Exercise, Item, Lesson, Page, Prose, Section, Where
from kit.errors import Problems
from kit.fences import CodeFences
from kit.parse import MAX_MODULE_BYTES, TextProblem, decode
from kit.safefs import Unsafe, inside, read_bounded
from kit.yamlload import LineDict, YamlProblem, load_yaml

MAX_DEPTH = 30            # divs nested deeper than this are an error
MAX_EPISODES = 99         # a kit numbers its sessions with two digits
MAX_MINUTES = 600
FIGURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
# Folders whose name is dropped from a figure's path in the kit: `episodes/fig/a.svg`
# and the older `fig/a.svg` both become `fig/a.svg`.
PAGE_FOLDERS = {"episodes", "learners", "instructors", "profiles", "_episodes", "_episodes_rmd", "_extras"}

DIV_RE = re.compile(r"^\s{0,3}(:{3,})(.*)$")
HEADING_RE = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
ATTRS_END_RE = re.compile(r"\s*\{[^{}]*\}\s*$")
IAL_RE = re.compile(r"^((?:\s*>)*)\s*\{:\s*([^}]*)\}\s*$")
QUOTE_RE = re.compile(r"^\s{0,3}>")
LIST_ITEM_RE = re.compile(r"^\s{0,3}(?:[-*+]|\d{1,9}[.)])\s+(.*)$")
REF_DEF_RE = re.compile(r"^\s{0,3}\[([^\]\n]+)\]:\s*<?([^\s>]+)>?(?:\s+[\"'(].*)?\s*$")
IMAGE_RE = re.compile(r"!\[([^\]]{0,2000})\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)(\{[^{}\n]*\})?")
REF_IMAGE_RE = re.compile(r"!\[([^\]]{0,2000})\]\[([^\]\n]*)\](\{[^{}\n]*\})?")
LINK_RE = re.compile(r"(?<![!\\])\[([^\[\]]{0,2000}(?:\[[^\[\]\n]{0,200}\][^\[\]]{0,2000}){0,5})\]"
                     r"\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)(\{[^{}\n]*\})?")
REF_LINK_RE = re.compile(r"(?<![!\\\]])\[([^\[\]]{1,2000})\](?:\[([^\[\]\n]*)\])?(?![(:\[])")
ALT_RE = re.compile(r"""\balt\s*=\s*(?:'([^']*)'|"([^"]*)"|(\S+))""")
RMD_CHUNK_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*\{\s*([A-Za-z0-9_]+)[^}]*\}\s*$")
# YAML 1.1 reads these as true or false; YAML 1.2 (pandoc) reads them as text.
YAML11_BOOL_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(yes|no|on|off|y|n)\s*(#.*)?$", re.IGNORECASE)

CARPENTRIES = {
    "swc": "Software Carpentry", "dc": "Data Carpentry", "lc": "Library Carpentry",
    "cp": "The Carpentries", "incubator": "The Carpentries Incubator", "lab": "The Carpentries Lab",
}
DEFAULT_TITLES = {
    "challenge": "Challenge", "discussion": "Discussion", "callout": "Callout", "instructor": "Instructor note",
    "solution": "Solution", "hint": "Hint", "prereq": "Prerequisite", "checklist": "Checklist",
    "testimonial": "Testimonial", "spoiler": "More", "caution": "Caution", "tab": "", "keypoints": "Key points",
    "questions": "Questions", "objectives": "Objectives",
}
LISTS = ("questions", "objectives", "keypoints")


class Line(NamedTuple):
    line: int    # in the source file
    text: str
    code: bool   # inside fenced code (fences included)


@dataclass
class Div:
    kind: str
    line: int
    children: list = field(default_factory=list)  # Line and Div, in order


# --- reading files -------------------------------------------------------------------

def read_lesson_text(lesson_dir: Path, rel: str, problems: Problems, missing_ok: bool = False) -> str | None:
    """The text of the lesson file `rel` (posix, relative to the lesson folder), or None
    after reporting why it cannot be read. Never reads outside the lesson folder."""
    path = lesson_dir / rel
    if not inside(path, lesson_dir):
        problems.error(rel, 1, "the file links to a place outside the lesson folder; it is not read")
        return None
    if not path.exists():
        if not missing_ok:
            problems.error(rel, 1, "the file does not exist")
        return None
    try:
        return decode(read_bounded(path, MAX_MODULE_BYTES, within=lesson_dir))
    except TextProblem as problem:
        problems.error(rel, problem.line, problem.message)
    except Unsafe as exc:
        problems.error(rel, 1, f"the file is not read: {str(exc).split(': ', 1)[-1]}")
    except OSError as exc:
        problems.error(rel, 1, f"cannot read the file: {exc.strerror or exc}")
    return None


# --- the lesson: what every page shares ------------------------------------------------

@dataclass
class LessonContext:
    """What a page needs to know of its lesson: where it is, its website (relative links
    become links to it), the link definitions of `links.md`, and the figures found."""
    root: Path
    problems: Problems
    url: str = ""
    links: dict = field(default_factory=dict)          # reference name (lower case) -> address
    figures: dict = field(default_factory=dict)        # kit path -> lesson path
    remote: set = field(default_factory=set)
    lossy: dict = field(default_factory=dict)          # div kind -> (count, first Where)

    def note_lossy(self, kind: str, where: Where) -> None:
        count, first = self.lossy.get(kind, (0, where))
        self.lossy[kind] = (count + 1, first)


def site_link(url: str, page_dir: str, ctx: LessonContext) -> str | None:
    """The address a link of the lesson should have in the kit: absolute ones as they
    are, relative ones on the lesson's website (None when it is not known)."""
    url = url.strip()
    low = url.lower()
    if low.startswith(("https://", "http://", "mailto:")):
        return url
    if re.match(r"^[a-z][a-z0-9+.-]*:", low) or url.startswith("//"):
        return None  # another scheme: not printed as a link
    if not ctx.url:
        return None
    path, _, anchor = url.partition("#")
    if not path:
        return None  # an anchor on the same web page: nothing to point at in print
    path = path.split("?", 1)[0]
    joined = posixpath.normpath(posixpath.join(page_dir, path.lstrip("/"))) if not path.startswith("/") \
        else posixpath.normpath(path.lstrip("/"))
    parts = [p for p in joined.split("/") if p not in ("..", ".", "")]
    while parts and parts[0] in PAGE_FOLDERS:
        parts.pop(0)
    target = "/".join(parts)
    for suffix in (".md", ".Rmd", ".rmd"):
        if target.endswith(suffix):
            target = target[: -len(suffix)] + ".html"
    if target.endswith("index.html") and target != "index.html":
        target = target[: -len("index.html")]
    return ctx.url.rstrip("/") + "/" + target + (f"#{anchor}" if anchor else "")


def figure_path(src: str, page_dir: str, alt: str, where: Where, ctx: LessonContext) -> str:
    """The Markdown that replaces the image `src` of a page: the copied figure's path in the
    kit; a link to a remote one (not fetched: a warning names it); a description of a
    missing one (a warning)."""
    name = src.strip()
    low = name.lower()
    label = alt.strip() or posixpath.basename(name.split("?")[0]) or "figure"
    if low.startswith(("http://", "https://", "//")):
        full = "https:" + name if name.startswith("//") else name
        if full not in ctx.remote:
            ctx.remote.add(full)
            ctx.problems.warning(where.path, where.line, f"figure '{full}' is on the web and is not fetched: "
                                                         "the kit prints a link to it instead")
        return f"[Figure: {label}]({full})"
    if re.match(r"^[a-z][a-z0-9+.-]*:", low):
        ctx.problems.warning(where.path, where.line, f"figure '{name[:80]}' is not a file of the lesson; left out")
        return f"*(Figure left out: {label})*"
    path = name.split("#", 1)[0].split("?", 1)[0]
    candidates = [posixpath.normpath(posixpath.join(page_dir, path))] if not path.startswith("/") else []
    candidates.append(posixpath.normpath(path.lstrip("/")))
    for rel in candidates:
        if rel.startswith("..") or rel in (".", ""):
            continue
        found = ctx.root / rel
        if not found.is_file():
            continue
        if found.is_symlink() or not inside(found, ctx.root):
            ctx.problems.warning(where.path, where.line, f"figure '{name}' is a link; it is not copied")
            return f"*(Figure left out: {label})*"
        if not rel.lower().endswith(FIGURE_SUFFIXES):
            ctx.problems.warning(where.path, where.line, f"figure '{name}' is not an image a PDF can show "
                                                         f"({', '.join(FIGURE_SUFFIXES)}); left out")
            return f"*(Figure left out: {label})*"
        parts = rel.split("/")
        if len(parts) > 1 and parts[0] in PAGE_FOLDERS:
            parts = parts[1:]
        kit_path = "/".join(parts)
        if ctx.figures.get(kit_path, rel) != rel:  # two figures of the same name in different folders
            kit_path = "figures/" + rel
        ctx.figures[kit_path] = rel
        return f"![{alt}]({kit_path})"
    ctx.problems.warning(where.path, where.line, f"figure '{name}' is not in the lesson; the kit prints its "
                                                 "description instead")
    return f"*(Figure not found: {label})*"


def reference_links(lines: list[Line]) -> dict:
    """The link definitions (`[name]: address`) of a page, by lower-case name."""
    found: dict[str, str] = {}
    for entry in lines:
        if not entry.code:
            match = REF_DEF_RE.match(entry.text)
            if match:
                found.setdefault(match.group(1).strip().lower(), match.group(2))
    return found


# --- Markdown: what pandoc and kramdown understand and kit's Markdown does not -----------

class Cleaner:
    """Turns a page's Markdown into the Markdown of a kit: pandoc attributes dropped,
    headings demoted below a segment's, images and links resolved, R chunks shown as code."""

    def __init__(self, source: str, ctx: LessonContext, definitions: dict):
        self.source = source
        self.page_dir = posixpath.dirname(source)
        self.ctx = ctx
        self.definitions = {**ctx.links, **definitions}

    def where(self, line: int) -> Where:
        return Where(self.source, line)

    def text(self, lines: list[Line]) -> str:
        out: list[str] = []
        run: list[Line] = []  # lines of prose: images and links may run over several

        def flush() -> None:
            if run:
                out.append(self.inline("\n".join(e.text for e in run), [e.line for e in run]))
                run.clear()

        for entry in lines:
            if entry.code:
                flush()
                chunk = RMD_CHUNK_RE.match(entry.text)
                out.append(f"{chunk.group(1)}{chunk.group(2)}{chunk.group(3)}" if chunk else entry.text)
                continue
            if REF_DEF_RE.match(entry.text) or DIV_RE.match(entry.text) or IAL_RE.match(entry.text):
                continue  # a link definition (links are made inline), a stray fence, a kramdown attribute line
            run.append(Line(entry.line, self.heading(entry.text), False))
        flush()
        return "\n".join(out).strip("\n")

    @staticmethod
    def heading(text: str) -> str:
        """Headings below a segment's (###), without pandoc's attributes; a line that
        starts with '##' and is no heading cannot open a segment."""
        heading = HEADING_RE.match(text)
        if heading and heading.group(2) is not None:
            title = ATTRS_END_RE.sub("", heading.group(2) or "")
            return "#" * max(3, len(heading.group(1))) + " " + title
        if heading:
            return ""
        if text.startswith("##"):
            return "\\" + text
        return text

    def inline(self, text: str, first: int | list[int]) -> str:
        """Images and links of `text` resolved for the kit. `first` is the source line of
        its first line, or each of its lines' source lines (a converted Jekyll page's lines
        do not follow on from each other in its source)."""
        def where_of(match: re.Match) -> Where:
            offset = text.count("\n", 0, match.start())
            if isinstance(first, list):
                return self.where(first[min(offset, len(first) - 1)] if first else 1)
            return self.where(first + offset)


        def image(match: re.Match) -> str:
            where = where_of(match)
            alt = " ".join(match.group(1).split())
            attrs = ALT_RE.search(match.group(3) or "")
            if attrs:
                alt = next(g for g in attrs.groups() if g is not None) or alt
            return figure_path(match.group(2), self.page_dir, alt.replace("]", ""), where, self.ctx)

        def ref_image(match: re.Match) -> str:
            where = where_of(match)
            target = self.definitions.get((match.group(2) or match.group(1)).strip().lower())
            if target is None:
                return match.group(0)
            alt = match.group(1)
            attrs = ALT_RE.search(match.group(3) or "")
            if attrs:
                alt = next(g for g in attrs.groups() if g is not None) or alt
            return figure_path(target, self.page_dir, alt, where, self.ctx)

        def link(match: re.Match) -> str:
            target = site_link(match.group(2), self.page_dir, self.ctx)
            return f"[{match.group(1)}]({target})" if target else match.group(1)

        def ref_link(match: re.Match) -> str:
            name = " ".join((match.group(2) or match.group(1)).split()).lower()
            if name not in self.definitions:
                return match.group(0)
            target = site_link(self.definitions[name], self.page_dir, self.ctx)
            return f"[{match.group(1)}]({target})" if target else match.group(1)

        if "!" in text:
            text = IMAGE_RE.sub(image, text)
            text = REF_IMAGE_RE.sub(ref_image, text)
        if "[" in text:
            text = LINK_RE.sub(link, text)
            text = REF_LINK_RE.sub(ref_link, text)
        return text


# --- the tree of divs ----------------------------------------------------------------

def div_kind(rest: str) -> str:
    """The name of a div from what follows its colons: 'challenge', '{.challenge #id}'
    or '' for a fence that closes."""
    rest = rest.strip().rstrip(":").strip()
    if not rest:
        return ""
    if rest.startswith("{"):
        inner = rest[1: rest.find("}")] if "}" in rest else rest[1:]
        classes = [token[1:] for token in inner.split() if token.startswith(".")]
        return classes[0].lower() if classes else "div"
    return rest.split()[0].lower()


def build_divs(lines: list[tuple[int, str]], source: str, problems: Problems) -> Div:
    root = Div("", 0)
    stack = [root]
    fences = CodeFences()
    too_deep = 0
    for line, text in lines:
        if fences.code(text):
            stack[-1].children.append(Line(line, text, True))
            continue
        fence = DIV_RE.match(text)
        if fence:
            kind = div_kind(fence.group(2))
            if kind:
                if len(stack) > MAX_DEPTH:
                    too_deep += 1
                    if too_deep == 1:
                        problems.error(source, line, f"divs nested more than {MAX_DEPTH} deep")
                    continue
                div = Div(kind, line)
                stack[-1].children.append(div)
                stack.append(div)
            elif too_deep:
                too_deep -= 1
            elif len(stack) > 1:
                stack.pop()
            else:
                problems.warning(source, line, "this line of colons closes no open div; it is left out")
            continue
        stack[-1].children.append(Line(line, text, False))
    for div in reversed(stack[1:]):
        problems.error(source, div.line, f"the '{div.kind}' div opened here is not closed: add a line of "
                                         "colons (':::') where it ends")
    return root


def _title(children: list) -> tuple[str, list]:
    """The div's title (its first line, when that is a heading) and the rest."""
    rest = list(children)
    while rest and isinstance(rest[0], Line) and not rest[0].code and not rest[0].text.strip():
        rest.pop(0)
    if rest and isinstance(rest[0], Line) and not rest[0].code:
        match = HEADING_RE.match(rest[0].text)
        if match and match.group(2):
            return ATTRS_END_RE.sub("", match.group(2)).strip(), rest[1:]
    return "", rest


def _blockquote_depth(text: str) -> int:
    depth = 0
    rest = text
    while True:
        match = QUOTE_RE.match(rest)
        if not match:
            return depth
        depth += 1
        rest = rest[match.end():]


def _unquote(text: str, depth: int) -> str:
    for _ in range(depth):
        match = QUOTE_RE.match(text)
        if not match:
            break
        text = text[match.end():]
        if text.startswith(" "):
            text = text[1:]
    return text


class EpisodeReader:
    """Turns the div tree of one page into sections of items."""

    def __init__(self, source: str, ctx: LessonContext, cleaner: Cleaner):
        self.source = source
        self.ctx = ctx
        self.clean = cleaner
        self.problems = ctx.problems

    def where(self, line: int) -> Where:
        return Where(self.source, line)

    # Stray Jekyll blocks: `> ...` closed by `{: .solution}` in a Workbench page.
    def jekyll_solutions(self, lines: list[Line]) -> tuple[list[Line], list[tuple[int, str]]]:
        """Take the blockquotes marked `{: .solution}` out of `lines` (they are answers,
        never participant text); other attribute lines are dropped with a warning."""
        kept = list(lines)
        found: list[tuple[int, str]] = []
        index = 0
        while index < len(kept):
            entry = kept[index]
            match = None if entry.code else IAL_RE.match(entry.text)
            if not match:
                index += 1
                continue
            depth = match.group(1).count(">")
            classes = [c[1:] for c in match.group(2).split() if c.startswith(".")]
            start = index
            while start > 0:
                above = kept[start - 1]
                if above.text.strip() and (_blockquote_depth(above.text) > depth or
                                           (start > 1 and _blockquote_depth(kept[start - 2].text) > depth
                                            and not IAL_RE.match(above.text))):
                    start -= 1
                else:
                    break
            if "solution" in classes and start < index:
                body = [_unquote(e.text, depth + 1) for e in kept[start:index]]
                found.append((kept[start].line, "\n".join(body)))
                self.problems.warning(self.source, entry.line,
                                      "a Jekyll-style '{: .solution}' blockquote in a Workbench episode: "
                                      "it is taken as a solution (guide only), never shown to participants")
                del kept[start:index + 1]
                index = start
                continue
            if start == index:
                self.problems.warning(self.source, entry.line, "this attribute line closes no blockquote; "
                                                               "it is left out")
            elif classes and classes[0] not in ("language-bash", "output", "error", "source"):
                self.problems.warning(self.source, entry.line, f"a Jekyll-style '{{: .{classes[0]}}}' blockquote "
                                                               "in a Workbench episode is kept as plain text")
            del kept[index]
        return kept, found

    def exercise(self, div: Div) -> Exercise:
        title, children = _title(div.children)
        text: list[Line] = []
        solutions: list[str] = []
        hints: list[str] = []
        notes: list[str] = []

        def walk(items: list) -> None:
            run: list[Line] = []

            def flush() -> None:
                kept, found = self.jekyll_solutions(run)
                text.extend(kept)
                solutions.extend(self.solution_text(body, line) for line, body in found)
                run.clear()

            for child in items:
                if isinstance(child, Line):
                    run.append(child)
                    continue
                flush()
                if child.kind == "solution":
                    solutions.append(self.titled(child.children))
                elif child.kind == "instructor":
                    notes.append(self.titled(child.children))
                elif child.kind == "hint":
                    hint_title, rest = _title(child.children)
                    hint_lines: list[Line] = []
                    for part in rest:  # a hint holds no solution, but look anyway
                        if isinstance(part, Div) and part.kind == "solution":
                            solutions.append(self.titled(part.children))
                        elif isinstance(part, Div):
                            hint_lines.extend(self.flatten([part]))
                        else:
                            hint_lines.append(part)
                    hint = self.clean.text(hint_lines)
                    hints.append(hint)
                    label = f"**Hint: {hint_title}.**" if hint_title else "**Hint.**"
                    text.extend([Line(child.line, "", False), Line(child.line, label, False),
                                 Line(child.line, "", False)])
                    text.extend(hint_lines)
                    text.append(Line(child.line, "", False))
                else:  # nested challenge, callout, spoiler...: its text, its solutions taken out
                    inner_title, rest = _title(child.children)
                    label = inner_title or DEFAULT_TITLES.get(child.kind, "")
                    text.append(Line(child.line, "", False))
                    if label:
                        text.extend([Line(child.line, f"**{label}**", False), Line(child.line, "", False)])
                    walk(rest)
                    text.append(Line(child.line, "", False))
            flush()

        walk(children)
        kind = "discussion" if div.kind == "discussion" else "challenge"
        return Exercise(kind, title or DEFAULT_TITLES[kind], self.clean.text(text), tuple(hints),
                        tuple(s for s in solutions if s.strip()), tuple(n for n in notes if n.strip()),
                        self.where(div.line))

    def titled(self, children: list) -> str:
        """A solution's or note's text: its title kept in bold unless it only says what it is."""
        title, rest = _title(children)
        text = self.clean.text(self.flatten(rest))
        if title and title.lower().rstrip(".:") not in ("solution", "solutions", "answer", "instructor note",
                                                       "note for instructors", "instructor"):
            return f"**{self.clean.inline(title, children[0].line if children else 1)}**\n\n{text}"
        return text

    def solution_text(self, body: str, line: int) -> str:
        lines = [Line(line + i, text, False) for i, text in enumerate(body.split("\n"))]
        fences = CodeFences()
        lines = [Line(e.line, e.text, fences.code(e.text)) for e in lines]
        _, rest = _title(lines)
        return self.clean.text(rest)

    def flatten(self, children: list) -> list[Line]:
        """A div's lines with nested divs inlined (their title in bold)."""
        out: list[Line] = []
        for child in children:
            if isinstance(child, Line):
                out.append(child)
                continue
            title, rest = _title(child.children)
            label = title or DEFAULT_TITLES.get(child.kind, "")
            out.append(Line(child.line, "", False))
            if label:
                out.extend([Line(child.line, f"**{label}**", False), Line(child.line, "", False)])
            out.extend(self.flatten(rest))
            out.append(Line(child.line, "", False))
        return out

    def list_items(self, div: Div) -> tuple[str, ...]:
        items: list[list[Line]] = []
        for entry in self.flatten(div.children):
            match = None if entry.code else LIST_ITEM_RE.match(entry.text)
            if match:
                items.append([Line(entry.line, match.group(1), False)])
            elif items and entry.text.strip():
                items[-1].append(Line(entry.line, entry.text.strip(), entry.code))
        return tuple(" ".join(self.clean.text(item).split()) for item in items if item)

    def aside(self, div: Div) -> Item:
        title, rest = _title(div.children)
        if div.kind == "solution":
            return Aside("solution", title or "Solution", self.clean.text(self.flatten(rest)), self.where(div.line))
        kept, found = self.jekyll_solutions(self.flatten(rest))
        text = self.clean.text(kept)
        for line, body in found:
            text += "\n\n**Solution**\n\n" + self.solution_text(body, line)
        if div.kind == "tab":  # one of a set of tabs: its text, under its own heading
            return Prose((f"### {title}\n\n" if title else "") + text, self.where(div.line))
        if div.kind not in DEFAULT_TITLES or div.kind == "div":
            self.problems.warning(self.source, div.line, f"'{div.kind}' is not a Carpentries div; "
                                                         "its text becomes a facilitator note")
        return Aside(div.kind, title or DEFAULT_TITLES.get(div.kind, div.kind.capitalize()), text,
                     self.where(div.line))

    def items(self, children: list) -> list[Item]:
        """The items of a stretch of a page outside exercises."""
        out: list[Item] = []
        run: list[Line] = []

        def flush() -> None:
            kept, found = self.jekyll_solutions(run)
            text = self.clean.text(kept)
            if text.strip():
                first = next(e.line for e in kept if e.text.strip())
                out.append(Prose(text, self.where(first)))
            for line, body in found:
                out.append(Aside("solution", "Solution", self.solution_text(body, line), self.where(line)))
            run.clear()

        for child in children:
            if isinstance(child, Line):
                run.append(child)
                continue
            flush()
            if child.kind in ("challenge", "discussion"):
                out.append(self.exercise(child))
            else:
                out.append(self.aside(child))
        flush()
        return out

    def sections(self, root: Div, lists: dict) -> tuple[Section, ...]:
        """Split the page at its top-level `##` headings; the question, objective and
        key-point divs go into `lists`."""
        raw: list[tuple[str, int, list]] = [("", root.line or 1, [])]
        for child in root.children:
            if isinstance(child, Div) and child.kind in LISTS:
                lists.setdefault(child.kind, []).extend(self.list_items(child))
                continue
            if isinstance(child, Line) and not child.code:
                match = HEADING_RE.match(child.text)
                if match and len(match.group(1)) <= 2 and match.group(2):
                    raw.append((ATTRS_END_RE.sub("", match.group(2)).strip(), child.line, []))
                    continue
            raw[-1][2].append(child)
        out = []
        for title, line, children in raw:
            items = tuple(self.items(children))
            if items or title:
                out.append(Section(title, self.where(line), items))
        return tuple(out)


# --- front matter ------------------------------------------------------------------

def split_page(text: str, lines: tuple[int, ...] | None) -> tuple[str | None, int, list[tuple[int, str]]]:
    """(front matter YAML or None, its first text line, body lines with their source lines)."""
    rows = text.split("\n")

    def src(index: int) -> int:
        if lines is None:
            return index + 1
        if not lines:
            return 1
        return lines[min(index, len(lines) - 1)]

    if rows and rows[0].strip() == "---":
        for end in range(1, len(rows)):
            if rows[end].strip() in ("---", "..."):
                body = [(src(i), rows[i]) for i in range(end + 1, len(rows))]
                return "\n".join(rows[1:end]), 2, body
    return None, 1, [(src(i), row) for i, row in enumerate(rows)]


def _front(yaml_text: str, first: int, source: str, lines: tuple[int, ...] | None,
           problems: Problems) -> LineDict:
    def src(line: int) -> int:
        if lines is None:
            return line
        return lines[min(max(line, 1), len(lines)) - 1] if lines else 1

    empty = LineDict()
    empty.lines = {}
    try:
        data = load_yaml(yaml_text, first - 1)
    except YamlProblem as problem:
        problems.error(source, src(problem.line), f"front matter: {problem.message}")
        return empty
    if data is None:
        return empty
    if not isinstance(data, LineDict):
        problems.error(source, src(first), "the front matter must be 'key: value' lines")
        return empty
    data.lines = {key: src(line) for key, line in data.lines.items()}
    for offset, row in enumerate(yaml_text.split("\n")):
        match = YAML11_BOOL_RE.match(row)
        if match:
            value = match.group(2)
            read = value.lower() in ("yes", "on", "y")
            problems.warning(source, src(first + offset),
                             f"'{match.group(1)}: {value}' is a YAML 1.1 boolean: R reads it as "
                             f"{str(read).lower()}, pandoc (YAML 1.2) as the text '{value}'; taken as "
                             f"{str(read).lower()}: write '{str(read).lower()}'")
            data[match.group(1)] = read
    return data


def _minutes(front: LineDict, key: str, source: str, problems: Problems) -> int:
    value = front.get(key)
    line = front.lines.get(key, 1)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        problems.error(source, line, f"'{key}' must be a number of minutes, not {value!r}")
        return 0
    if isinstance(value, str):
        match = re.match(r"\s*(\d{1,4})\b", value)
        if not match:
            problems.error(source, line, f"'{key}: {value}' is not a number of minutes")
            return 0
        number = int(match.group(1))
        problems.warning(source, line, f"'{key}: {value}' is not a number; read as {number} minutes: "
                                       f"write '{key}: {number}'")
        value = number
    if isinstance(value, float):
        problems.warning(source, line, f"'{key}: {value}' is not a whole number; read as {round(value)}")
        value = round(value)
    if not 0 <= value <= MAX_MINUTES:
        problems.error(source, line, f"'{key}: {value}' must be between 0 and {MAX_MINUTES} minutes")
        return 0
    return int(value)


def _text_value(front: LineDict, key: str) -> str:
    value = front.get(key)
    return " ".join(str(value).split()) if isinstance(value, (str, int, float)) and not isinstance(value, bool) \
        else ""


def _front_list(front: LineDict, key: str, cleaner: Cleaner) -> tuple[str, ...]:
    """Questions, objectives or key points written in the front matter (the older way)."""
    value = front.get(key)
    if not isinstance(value, list):
        return ()
    line = front.lines.get(key, 1)
    return tuple(" ".join(cleaner.inline(str(v), line).split()) for v in value if isinstance(v, (str, int, float)))


def read_episode(text: str, lines: tuple[int, ...] | None, source: str, ctx: LessonContext) -> Episode:
    """One episode, from its Workbench-format text. `lines` maps each line of `text` to its
    line in `source` (None: the text is the source itself)."""
    problems = ctx.problems
    yaml_text, first, body = split_page(text, lines)
    if yaml_text is None:
        problems.error(source, 1, "an episode starts with YAML front matter: '---', 'title: ...', '---'")
        front = LineDict()
        front.lines = {}
    else:
        front = _front(yaml_text, first, source, lines, problems)
    title = _text_value(front, "title")
    if not title:
        problems.error(source, front.lines.get("title", 1), "the episode has no 'title'")
        title = posixpath.splitext(posixpath.basename(source))[0]
    teaching = _minutes(front, "teaching", source, problems)
    exercises = _minutes(front, "exercises", source, problems)
    pause = _minutes(front, "break", source, problems)
    start = front.get("start", False)
    if not isinstance(start, bool):
        problems.warning(source, front.lines.get("start", 1), f"'start: {start}' is not true or false; "
                                                              "taken as false")
        start = False
    if "teaching" not in front and "break" not in front:
        problems.warning(source, 1, "the episode gives no 'teaching:' minutes")
    root = build_divs(body, source, problems)
    all_lines = [e for e in _all_lines(root)]
    cleaner = Cleaner(source, ctx, reference_links(all_lines))
    reader = EpisodeReader(source, ctx, cleaner)
    lists: dict = {}
    sections = reader.sections(root, lists)
    for key in LISTS:
        lists.setdefault(key, [])
        lists[key] = list(_front_list(front, key, cleaner)) + lists[key]
    episode = Episode(source, title, teaching, exercises, pause, bool(start), tuple(lists["questions"]),
                      tuple(lists["objectives"]), tuple(lists["keypoints"]), sections,
                      source.lower().endswith(".rmd"), Where(source, 1))
    challenges = sum(section.exercises for section in sections)
    if challenges and not exercises and not pause:
        problems.warning(source, front.lines.get("exercises", 1),
                         f"the episode has {challenges} challenge{'s' if challenges > 1 else ''} but 'exercises: 0': "
                         "its challenges get no minutes of their own")
    return episode


def _all_lines(div: Div) -> list[Line]:
    out: list[Line] = []
    todo = [div]
    while todo:
        node = todo.pop()
        for child in node.children:
            if isinstance(child, Line):
                out.append(child)
            else:
                todo.append(child)
    return out


def read_page(text: str, lines: tuple[int, ...] | None, source: str, ctx: LessonContext) -> Page:
    """A page that is not an episode (setup, instructor notes): its title and sections."""
    yaml_text, first, body = split_page(text, lines)
    front = _front(yaml_text, first, source, lines, ctx.problems) if yaml_text is not None else LineDict()
    root = build_divs(body, source, ctx.problems)
    cleaner = Cleaner(source, ctx, reference_links(_all_lines(root)))
    lists: dict = {}
    sections = EpisodeReader(source, ctx, cleaner).sections(root, lists)
    return Page(source, _text_value(front, "title") if isinstance(front, dict) else "", sections)


# --- the lesson ------------------------------------------------------------------------

def read_config(lesson_dir: Path, name: str, problems: Problems) -> LineDict:
    text = read_lesson_text(lesson_dir, name, problems)
    empty = LineDict()
    empty.lines = {}
    if text is None:
        return empty
    try:
        data = load_yaml(text)
    except YamlProblem as problem:
        problems.error(name, problem.line, problem.message)
        return empty
    if not isinstance(data, LineDict):
        problems.error(name, 1, f"{name} must be 'key: value' lines")
        return empty
    return data


def lesson_context(lesson_dir: Path, config: LineDict, problems: Problems) -> LessonContext:
    ctx = LessonContext(lesson_dir, problems)
    url = config.get("url")
    if isinstance(url, str) and url.strip().lower().startswith(("https://", "http://")):
        ctx.url = url.strip()
    if (lesson_dir / "links.md").is_file():
        text = read_lesson_text(lesson_dir, "links.md", problems)
        if text:
            ctx.links = reference_links([Line(i + 1, row, False) for i, row in enumerate(text.split("\n"))])
    return ctx


def carpentry_name(config: LineDict) -> str:
    code = config.get("carpentry")
    return CARPENTRIES.get(str(code).lower(), "The Carpentries") if code else "The Carpentries"


def read_workbench_lesson(lesson_dir: Path, problems: Problems) -> tuple[Lesson, LessonContext]:
    lesson_dir = Path(lesson_dir).resolve()
    config = read_config(lesson_dir, "config.yaml", problems)
    ctx = lesson_context(lesson_dir, config, problems)
    title = _text_value(config, "title")
    if not title:
        problems.error("config.yaml", config.lines.get("title", 1), "the lesson has no 'title'")
        title = lesson_dir.name
    folder = lesson_dir / "episodes"
    present = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in (".md", ".rmd")) \
        if folder.is_dir() and inside(folder, lesson_dir) else []
    listed = config.get("episodes")
    names: list[str] = []
    if isinstance(listed, list):
        for index, name in enumerate(listed):
            line = listed.lines[index] if hasattr(listed, "lines") else 1
            if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
                problems.error("config.yaml", line, f"'{name}' is not the file name of an episode")
            elif name not in present:
                problems.error("config.yaml", line, f"episode '{name}' is not in episodes/")
            else:
                names.append(name)
        for name in present:
            if name not in names:
                problems.warning(f"episodes/{name}", 1, "not listed in config.yaml's 'episodes': not imported")
    else:
        names = present
    if not names:
        problems.error("config.yaml", 1, "the lesson has no episodes (config.yaml 'episodes:' and episodes/)")
    if len(names) > MAX_EPISODES:
        problems.error("config.yaml", 1, f"the lesson has {len(names)} episodes; a kit holds at most {MAX_EPISODES}")
        names = names[:MAX_EPISODES]
    episodes = []
    for name in names:
        rel = f"episodes/{name}"
        text = read_lesson_text(lesson_dir, rel, problems)
        if text is not None:
            episodes.append(read_episode(text, None, rel, ctx))
    pages = []
    for rel in ("learners/setup.md", "instructors/instructor-notes.md"):
        text = read_lesson_text(lesson_dir, rel, problems, missing_ok=True)
        pages.append(read_page(text, None, rel, ctx) if text is not None else None)
    lesson = Lesson(title, ctx.url, carpentry_name(config), "workbench", tuple(episodes), pages[0], pages[1],
                    tuple(sorted(ctx.figures.items())))
    return lesson, ctx
