"""Parse one module file (front matter + run of show) into a `Session`.

The body grammar:
- text before the first `##` heading is the session overview;
- each `## Title {minutes=N kind=K}` heading opens a segment;
- inside a segment, `:::`-fenced divs are typed blocks; a fence with a name
  opens a block, a fence of colons alone closes the innermost open block
  (pandoc's rule), so blocks nest (`answer` inside `prompt`);
- lines inside ``` or ~~~ code fences are never read as structure.
All problems are reported through `report(line, message)` and parsing goes on.
"""
from __future__ import annotations

import dataclasses
import re
import shlex
from dataclasses import dataclass, field
from typing import Callable

from kit import kinds
from kit.fences import CodeFences
from kit import model as m
from kit.schema import SEGMENT_ATTRS, SESSION, check_mapping
from kit.yamlload import LineDict, YamlProblem, load_yaml, trailing_comments

MAX_MODULE_BYTES = 1024 * 1024

# Written so that no line can make them backtrack: the text is trimmed in Python.
FENCE_RE = re.compile(r"^\s{0,3}(:{3,})(.*)$")
H2_RE = re.compile(r"^##(?!#)(.*)$")
ATTRS_RE = re.compile(r"\{([^{}]*)\}\s*$")
FIELD_RE = re.compile(r"^[A-Za-z_][\w-]*:(\s|$)")
# What is printed in headings and on the one-page run sheet must stay short: besides
# fitting the page, very long unbroken lines there make the PDF engine's line
# breaking slow (quadratic: minutes for a few thousand characters). The 'say' block's
# own limit is declared with its kind (kit.kinds.MAX_SAY).
MAX_TITLE = 160
# Each block costs the PDF engine about 25 ms and a third of a MiB, and more than linearly
# in a long document; the bundled sessions have under 40. A module over the limit is not
# checked further nor built.
MAX_BLOCKS = 500
# Pre-work items and resources: each link is printed with a QR code (milliseconds each,
# a fifth of a second for the longest links). Other lists of the front matter (objectives,
# materials, preparation, think_about) are printed whole on the session's first pages.
MAX_LINKS = 30
MAX_ITEMS = 100

Report = Callable[..., None]

COMMENT_WARNING = ("YAML reads the text after ' #' as a comment, so it is not printed: "
                   "put the value in quotes to keep it (\"rule #29\")")


class TextProblem(Exception):
    def __init__(self, line: int, message: str):
        self.line, self.message = line, message
        super().__init__(message)


def decode(data: bytes) -> str:
    """Bytes of a text file -> str with '\\n' line ends. UTF-8, BOM optional."""
    if len(data) > MAX_MODULE_BYTES:
        raise TextProblem(1, f"file is larger than 1 MiB ({len(data):,} bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TextProblem(line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})") from None
    if "\x00" in text:
        raise TextProblem(text[: text.index("\x00")].count("\n") + 1, "file contains a NUL character")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[str, int, list[str], int]:
    """Return (yaml_text, yaml_first_line, body_lines, body_first_line)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise TextProblem(1, "a module must start with YAML front matter: a line '---', "
                             "the keys, and another line '---'")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), 2, lines[i + 1:], i + 2
    raise TextProblem(1, "front matter is not closed: add a line '---' after its keys")


# --- the block tree ------------------------------------------------------------

@dataclass
class Node:
    kind: str
    title: str
    line: int
    children: list = field(default_factory=list)  # (line, text) tuples and Nodes


@dataclass
class RawSegment:
    heading: str
    line: int
    root: Node


def build_tree(lines: list[str], first_line: int, report: Report) -> tuple[Node, list[RawSegment]]:
    """Split the body into the overview and segments, each a tree of blocks."""
    overview = Node("overview", "", first_line)
    segments: list[RawSegment] = []
    stack: list[Node] = [overview]
    fences = CodeFences()

    def close_all(reason_line: int) -> None:
        where = f"before line {reason_line}" if reason_line else "at its end"
        unclosed = stack[1:]
        del stack[1:]
        if len(unclosed) > 3:  # one message for a pile of them, at the outermost
            node = unclosed[0]
            report(node.line, f"'{node.kind}' block is not closed, nor are the {len(unclosed) - 1} "
                              f"blocks opened inside it: add lines ':::' {where}")
            return
        for node in reversed(unclosed):
            report(node.line, f"'{node.kind}' block is not closed: add a line ':::' {where}")

    for offset, text in enumerate(lines):
        line = first_line + offset
        if fences.code(text):
            stack[-1].children.append((line, text))
            continue
        heading = H2_RE.match(text)
        if heading:
            close_all(line)
            root = Node("segment", "", line)
            segments.append(RawSegment(heading.group(1).strip().rstrip("#").rstrip(), line, root))
            stack[:] = [root]
            continue
        fence = FENCE_RE.match(text)
        if fence:
            name = fence.group(2).strip()
            if name:
                kind, _, title = name.partition(" ")
                node = Node(kind.lower(), title.strip(), line)
                stack[-1].children.append(node)
                stack.append(node)
            elif len(stack) > 1:
                stack.pop()
            else:
                report(line, "':::' closes no open block")
            continue
        stack[-1].children.append((line, text))
    close_all(0)
    return overview, segments


def _text(children: list) -> str:
    lines = [t for c in children if isinstance(c, tuple) for t in [c[1]]]
    return "\n".join(lines).strip("\n")


# --- from tree to model ----------------------------------------------------------

class ModuleParser:
    def __init__(self, path: str, products: dict[str, str], report: Report, warn: Report):
        self.path = path
        self.products = products
        self.report = report
        self.warn = warn
        self.pacing: dict[int, tuple[int | None, int | None]] = {}  # block line -> (at, takes)

    def src(self, line: int) -> m.Source:
        return m.Source(self.path, line)

    def fields(self, node: Node) -> tuple[dict, list]:
        """Split a block's leading `key: value` lines from the rest of its children."""
        spec = kinds.block_fields(node.kind)
        children = list(node.children)
        header: list[tuple[int, str]] = []
        if children and isinstance(children[0], tuple) and FIELD_RE.match(children[0][1]):
            while children and isinstance(children[0], tuple) and children[0][1].strip():
                header.append(children.pop(0))
        data = LineDict()
        data.lines = {}
        if header:
            for line in trailing_comments("\n".join(t for _, t in header), header[0][0]):
                self.warn(line, COMMENT_WARNING)
            try:
                loaded = load_yaml("\n".join(t for _, t in header), header[0][0] - 1)
            except YamlProblem as problem:
                self.report(problem.line, f"in the fields of '{node.kind}': {problem.message}")
                loaded = None
            if isinstance(loaded, LineDict):  # every mapping load_yaml makes
                data = loaded
            elif loaded is not None:
                self.report(header[0][0], f"the first lines of a '{node.kind}' block must be "
                                          "'key: value' fields; leave a blank line before the body")
        if not spec and data:
            first = min(data.lines.values(), default=node.line)
            self.report(first, f"a '{node.kind}' block takes no fields (found "
                               f"{', '.join(map(str, data))}); leave a blank line before a body "
                               "that starts with 'Word:'")
            return {}, children
        return check_mapping(data, spec, node.line, "",
                             lambda line, msg: self.report(line, f"'{node.kind}' block: {msg}")), children

    def block(self, node: Node):
        """The model object of a block of a segment, as its kind (kit.kinds) builds it;
        None when it has none (an unknown kind, an answer out of place)."""
        name = node.kind
        if name == kinds.ANSWER:
            parents = ", ".join(k.name for k in kinds.answer_parents())
            self.report(node.line, f"an 'answer' block belongs inside a {parents} block")
            return None
        kind = kinds.written(name)
        if kind is None:
            self.report(node.line, f"unknown block kind '{name}'; valid kinds: "
                                   f"{', '.join(k.name for k in kinds.written_kinds())}")
            return None
        fields, children = self.fields(node)
        if fields:
            at, takes = (fields.pop(key, None) for key in kinds.PACING)
            if at is not None or takes is not None:
                self.pacing[node.line] = (at, takes)
        answers = []
        for child in children:
            if isinstance(child, Node):
                if child.kind == kinds.ANSWER and kind.takes_answer:
                    answers.append(child)
                else:
                    self.report(child.line, f"a '{child.kind}' block cannot be inside a '{name}' block"
                                + ("; only 'answer' can" if kind.takes_answer else ""))
        if len(answers) > 1:
            self.report(answers[1].line, f"a '{name}' block has more than one 'answer'")
        answer = ""
        if answers:
            _, answer_children = self.fields(answers[0])
            answer = _text(answer_children)
            if any(isinstance(c, Node) for c in answer_children):
                self.report(answers[0].line, "an 'answer' block cannot contain other blocks")
        body = _text(children)
        title = node.title
        line = node.line
        if len(title) > MAX_TITLE:
            self.report(line, f"the block's title is {len(title)} characters long; keep it under {MAX_TITLE}")
        if kind.needs_answer and not answer:
            self.report(line, f"a '{name}' needs its answer: add a nested '::: answer' block")
        if kind.needs_title and not title:
            self.report(line, kind.untitled())
        if title and "title" not in {f.name for f in dataclasses.fields(kind.model)}:
            self.warn(line, f"a '{name}' block has no title, so '{title[:60]}' is not printed: "
                            "put it in the block's text")
        if kind.needs_body and not body:
            self.report(line, kind.empty())
        context = kinds.Context(self.products, lambda message: self.report(line, message),
                                lambda message: self.warn(line, message))
        return kind.build(kinds.Parsed(title, body, fields, answer, self.src(line)), context)

    def segment_items(self, root: Node) -> tuple:
        items = []
        run: list = []

        def flush():
            text = _text(run)
            if text.strip():
                first = next(line for line, t in run if t.strip())
                items.append(m.Talk(text, self.src(first)))
            run.clear()

        for child in root.children:
            if isinstance(child, Node):
                flush()
                block = self.block(child)
                if block is not None:
                    items.append(block)
            else:
                run.append(child)
        flush()
        return tuple(items)

    def paced(self, block) -> tuple[int | None, int | None]:
        """A block's 'at:' and 'takes:' as written (None, None for a block of another
        file, such as an organisation profile's example)."""
        if block.src.path != self.path:
            return None, None
        return self.pacing.get(block.src.line, (None, None))

    def timed(self, seg: m.Segment) -> m.Segment:
        """The segment with its blocks' pacing laid out and its cuts placed, after the
        checks that need its minutes: paced blocks, pair flips and cuts must fit in it, and
        a cut must still be ahead at its decision point."""
        paces = []
        position = 0  # minutes into the segment
        for block in seg.blocks:
            at, takes = self.paced(block)
            if at is None and takes is None:
                continue
            line = block.src.line
            if at is not None:
                if at >= seg.minutes:
                    self.report(line, f"'at: {at}' is past the end of '{seg.title}', which lasts {seg.minutes} minutes")
                    continue
                if at < position:
                    self.report(line, f"'at: {at}' starts before the block above it ends "
                                      f"({position} minutes into '{seg.title}')")
                position = at
            if takes is not None and position + takes > seg.minutes:
                self.report(line, f"the timed blocks of '{seg.title}' need {position + takes} minutes by the end "
                                  f"of this one; the segment has {seg.minutes}")
            paces.append(m.Pace(block.src, seg.start + position, takes, pace_label(block)))
            position += takes or 0
        blocks = []
        saved = 0
        # Taken together, the cuts of a segment all come out of what is left of it: each must
        # be decided while the segment still holds its own minutes and those of the cuts
        # written after it.
        after = [0]
        for block in reversed(seg.blocks):
            if isinstance(block, m.Cut):
                after.insert(0, after[0] + block.saves)
        later = iter(after[1:])
        for block in seg.blocks:
            if isinstance(block, m.Cut):
                block = dataclasses.replace(block, latest=seg.end - block.saves - next(later))
                self.check_cut(block, seg)
                saved += block.saves
            elif isinstance(block, m.PairActivity):
                self.check_pair(block, seg)
            blocks.append(block)
        if saved > seg.minutes:
            cuts = [b for b in blocks if isinstance(b, m.Cut)]
            self.report(cuts[-1].src.line, f"the cuts of '{seg.title}' save {saved} minutes; "
                                           f"the segment has only {seg.minutes}")
        return dataclasses.replace(seg, blocks=tuple(blocks), paces=tuple(paces))

    def check_cut(self, cut: m.Cut, seg: m.Segment) -> None:
        line = cut.src.line
        if cut.saves > seg.minutes:
            self.report(line, f"the cut saves {cut.saves} minutes, but '{seg.title}' has only {seg.minutes}")
        elif cut.decide_at is not None and cut.decide_at > cut.latest:
            others = seg.end - cut.saves - cut.latest
            also = f" besides the {others} of the cuts written after it" if others else ""
            self.report(line, f"the cut is decided at {m.clock(cut.decide_at)}, when '{seg.title}' "
                              f"({m.clock(seg.start)}–{m.clock(seg.end)}) no longer has {cut.saves} minutes to "
                              f"save{also}: decide by {m.clock(cut.latest)}, or put the cut in a later segment")

    def check_pair(self, pair: m.PairActivity, seg: m.Segment) -> None:
        pace = self.paced(pair)[1]
        room, where = (pace, "its 'takes:'") if pace else (seg.minutes, f"'{seg.title}'")
        parts = [(pair.setup, "set-up"), (pair.minutes, "A"), (pair.minutes if pair.swap else None, "B"),
                 (pair.debrief_minutes, "debrief")]
        need = sum(minutes or 0 for minutes, _ in parts)
        if need > room:
            split = " + ".join(f"{minutes} {name}" for minutes, name in parts if minutes)
            self.report(pair.src.line, f"the pair flip needs {need} minutes ({split}); {where} has {room}")

    def heading(self, raw: RawSegment) -> tuple[str, dict]:
        attrs_match = ATTRS_RE.search(raw.heading)
        valid = ", ".join(SEGMENT_ATTRS)
        if not attrs_match:
            self.report(raw.line, "a segment heading needs its minutes and kind, "
                                  "e.g. '## Recap {minutes=10 kind=recap}'")
            return raw.heading.strip(), {"minutes": None, "kind": None}
        title = raw.heading[: attrs_match.start()].strip()
        if not title:
            self.report(raw.line, "the segment heading has no title")
        elif len(title) > MAX_TITLE:
            self.report(raw.line, f"the segment title is {len(title)} characters long; keep it under {MAX_TITLE}")
        data = LineDict()
        data.lines = {}
        try:
            tokens = shlex.split(attrs_match.group(1))
        except ValueError as exc:
            self.report(raw.line, f"cannot read the heading's attributes: {exc}")
            return title, {"minutes": None, "kind": None}
        for token in tokens:
            key, eq, value = token.partition("=")
            if not eq:
                self.report(raw.line, f"heading attribute '{token}' must be key=value; valid keys: {valid}")
                continue
            # A longer run of digits stays text: int() refuses past 4,300 of them.
            data[key] = int(value) if re.fullmatch(r"-?\d{1,30}", value) else value
            data.lines[key] = raw.line
        clean = check_mapping(data, SEGMENT_ATTRS, raw.line, "",
                              lambda line, msg: self.report(line, "segment heading: " + msg))
        return title, clean

    def session(self, number: int, slug: str, front: dict, front_line: int,
                overview: Node, raw_segments: list[RawSegment], default_minutes: int,
                front_ok: bool = True) -> m.Session:
        # When the front matter's YAML is broken, that error is the one to fix:
        # do not add "missing title" and the like on top of it.
        meta = check_mapping(front, SESSION, front_line, "",
                             self.report if front_ok else (lambda *_: None))
        minutes = meta["minutes"] or default_minutes
        for child in overview.children:
            if isinstance(child, Node):
                self.report(child.line, "blocks belong inside a segment: put them after a '## ...' heading")
        segments = []
        start = 0
        minutes_known = True  # a segment whose minutes could not be read makes any total wrong
        for raw in raw_segments:
            title, attrs = self.heading(raw)
            minutes_known = minutes_known and attrs["minutes"] is not None
            seg_minutes = attrs["minutes"] or 0
            segment = m.Segment(title, attrs["kind"] or "discussion", seg_minutes, start,
                                self.segment_items(raw.root), self.src(raw.line))
            if minutes_known:
                segment = self.timed(segment)
            segments.append(segment)
            start += seg_minutes
        if not raw_segments:
            self.report(front_line, "the module has no run of show: add segments as "
                                    "'## Title {minutes=N kind=K}' headings")
        elif start != minutes and front_ok and minutes_known:
            diff = start - minutes
            how = f"over-runs by {diff} minutes" if diff > 0 else f"under-runs by {-diff} minutes"
            self.report(raw_segments[-1].line,
                        f"the segments add up to {start} minutes but the session is {minutes}: "
                        f"the run of show {how}")
        src = self.src
        prework = tuple(m.PreworkItem(p["title"], p["url"], p["minutes"], p["kind"] or "video",
                                      p["estimate"], src(line))
                        for p, line in zip(meta["prework"], _item_lines(front, "prework")))
        preparation = tuple(m.PreparationItem(p["task"], p["minutes"] or 0, src(line))
                            for p, line in zip(meta["preparation"], _item_lines(front, "preparation")))
        resources = tuple(m.Resource(r["title"], r["url"], src(line))
                          for r, line in zip(meta["resources"], _item_lines(front, "resources")))
        self.lists(front, meta)
        self.links(front, {"prework": prework, "resources": resources})
        return m.Session(number, slug, meta["title"], minutes, meta["objectives"], prework,
                         meta["materials"], preparation, meta["think_about"], resources,
                         _text(overview.children), tuple(segments), src(1))

    def lists(self, front: dict, meta: dict) -> None:
        """At most MAX_ITEMS in each list of the front matter, MAX_LINKS of links."""
        for key in ("objectives", "materials", "preparation", "think_about", "prework", "resources"):
            most = MAX_LINKS if key in ("prework", "resources") else MAX_ITEMS
            if len(meta[key]) > most:
                self.report(_item_lines(front, key)[most], f"'{key}' has {len(meta[key]):,} items; a session "
                                                           f"may have at most {most}")

    def links(self, front: dict, lists: dict[str, tuple]) -> None:
        """Every link is printed with a QR code: each must be short enough for one (else
        segno would fail while rendering)."""
        for key, items in lists.items():
            for index, item in enumerate(items[:MAX_LINKS]):
                if item.url:
                    from kit.qr import too_long  # segno only for modules with links

                    problem = too_long(item.url)
                    if problem:
                        self.report(_field_line(front, key, index, "url", item.src.line), problem)


PACE_LABEL_WORDS = 12


def pace_label(block) -> str:
    """A few words that name a block on the run sheet: its title, else its first sentence
    if that is short, else its first words and an ellipsis."""
    title = getattr(block, "title", "")
    if title:
        return title
    kind = kinds.kind_of(block)
    for value in vars(block).values():
        if isinstance(value, str) and value.strip():
            line = re.sub(r"[*_`#>\[\]]", "", value.strip().split("\n", 1)[0])
            sentence = re.split(r"(?<=[.?!])\s+", line, maxsplit=1)[0].split()
            if len(sentence) <= PACE_LABEL_WORDS:
                return " ".join(sentence)
            return " ".join(sentence[:PACE_LABEL_WORDS]).rstrip(",;:.") + "…"
    return kind.described() if kind else ""


def _field_line(front: dict, key: str, index: int, field_name: str, default: int) -> int:
    """The line of `front[key][index][field_name]`; `default` when it has none."""
    items = front.get(key) if isinstance(front, dict) else None
    try:
        return items[index].lines[field_name]  # type: ignore[index]  # not a list: the default
    except (AttributeError, IndexError, KeyError, TypeError):
        return default


def _item_lines(front: dict, key: str) -> list[int]:
    value = front.get(key) if isinstance(front, dict) else None
    lines = getattr(value, "lines", None)
    if lines is None:
        return [1] * 1000
    return list(lines) + [1] * 1000


def parse_module(text: str, path: str, number: int, slug: str, products: dict[str, str],
                 default_minutes: int, report: Report, warn: Report) -> m.Session | None:
    """Parse a decoded module. Problems go to report/warn; None when unusable."""
    try:
        yaml_text, yaml_line, body, body_line = split_front_matter(text)
    except TextProblem as problem:
        report(problem.line, problem.message)
        return None
    front_ok = True
    for line in trailing_comments(yaml_text, yaml_line):
        warn(line, COMMENT_WARNING)
    try:
        front = load_yaml(yaml_text, yaml_line - 1)
    except YamlProblem as problem:
        report(problem.line, problem.message)
        front, front_ok = None, False
    if front is None:
        front = LineDict()
        front.lines = {}
        front.line = yaml_line
        if front_ok and not yaml_text.strip():
            report(yaml_line - 1, "the front matter is empty; it needs at least 'title'")
    if not isinstance(front, dict):
        report(getattr(front, "line", yaml_line), "the front matter must be 'key: value' lines")
        front, front_ok = LineDict(), False
        front.lines = {}
    parser = ModuleParser(path, products, report, warn)
    overview, raw_segments = build_tree(body, body_line, report)
    blocks = _block_lines(overview, raw_segments)
    session = parser.session(number, slug, front, yaml_line, overview, raw_segments, default_minutes, front_ok)
    if len(blocks) > MAX_BLOCKS:
        report(blocks[MAX_BLOCKS], f"the module has {len(blocks):,} blocks; a session may have at most "
                                   f"{MAX_BLOCKS}, which already take the PDF engine about 15 seconds: split "
                                   "it into several sessions")
        return None
    return session


def _block_lines(overview: Node, segments: list[RawSegment]) -> list[int]:
    """The opening line of every ':::' block of the module, nested ones too, in order."""
    lines: list[int] = []
    todo = [overview] + [segment.root for segment in segments]
    while todo:  # not recursive: blocks may be nested hundreds deep
        node = todo.pop()
        for child in node.children:
            if isinstance(child, Node):
                lines.append(child.line)
                todo.append(child)
    return sorted(lines)
