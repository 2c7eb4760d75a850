"""What each document may see, computed in Python before any template runs.

The worksheet view is built from the model by keeping only participant
material: the pre-work, and of each block of a kind that participants see
(kit.kinds), a copy that holds that kind's `participant_fields` and nothing else
(a prompt without its answer). The facilitator's material never reaches the
worksheet template, so it cannot leak into a participant's PDF through a template
mistake: a template that asks a block for more finds nothing there.
"""
from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kit import kinds
from kit.fences import CodeFences
from kit import model as m
from kit import qr, timeline
from kit.errors import KitError


@dataclass(frozen=True)
class Image:
    """An image made in Python, with its text alternative (PDF/UA requires one)."""
    src: str  # a data: URL
    alt: str


@dataclass(frozen=True)
class Cue:
    """One line of the run sheet's cue column: a label and its (Markdown) text."""
    label: str  # "Timer", "Running long"
    text: str


@dataclass(frozen=True)
class Row:
    """One line of a run of show."""
    span: str        # "0:00–0:10", or clock times with a delivery
    title: str
    kind: str
    minutes: int
    anchor: str
    say: str
    pair_turn: int | None  # minutes per turn of the first pair activity, for timer cues
    cues: tuple[Cue, ...] = ()
    start: str = ""  # "0:00" or "12:30": the span's first half


@dataclass(frozen=True)
class Macros:
    """Which macro of a file of macros prints each kind of block, as kit.kinds declares.

    A template imports the file and resolves the table once, at its top, before it
    prints anything: `{% import "blocks.html" as guide %}{% set macro_for =
    block_macros.resolve(guide) %}`, then `{{ macro_for[b.kind](b, products) }}`.
    A kind whose macro the file lacks stops the document with a template error that
    names the kind and the file, instead of printing nothing.
    """
    template: str                      # the file of macros, as named in templates/
    signature: str                     # the macro's arguments, for the message
    names: tuple[tuple[str, str], ...]  # (kind, macro)

    def resolve(self, module: Any) -> dict:
        """{kind: macro} from `module`, an imported template; a template error if one is missing."""
        found, missing = {}, []
        for kind, macro in self.names:
            value = getattr(module, macro, None)
            if callable(value):
                found[kind] = value
            else:
                missing.append(f"no macro for the '{kind}' blocks: add "
                               f"'{{% macro {macro}({self.signature}) %}}...{{% endmacro %}}'")
        if missing:
            from jinja2 import TemplateRuntimeError  # only ever called from a template

            raise TemplateRuntimeError(f"templates/{self.template} has " + "; ".join(missing))
        return found


def guide_macros() -> Macros:
    return Macros("blocks.html", "b, products", kinds.guide_macros())


def worksheet_macros() -> Macros:
    return Macros("worksheet-blocks.html", "b", kinds.worksheet_macros())


@dataclass(frozen=True)
class WorksheetPart:
    title: str
    blocks: tuple  # participant copies of blocks (participant_view)


@dataclass(frozen=True)
class WorksheetSession:
    number: int
    id: str
    title: str
    date: str
    prework: tuple[m.PreworkItem, ...]
    prework_minutes: int
    parts: tuple[WorksheetPart, ...]
    qr: dict = field(default_factory=dict)  # url -> Image, for every pre-work link
    macros: Macros = field(default_factory=worksheet_macros)


def segment_anchor(session: m.Session, index: int) -> str:
    return f"{session.id}-seg{index + 1}"


def time_label(start_clock: int | None):
    """How an offset into a session is printed: '0:10', or with a start time '12:40'."""
    if start_clock is None:
        return m.clock
    return lambda offset: m.wall_clock(start_clock + offset)


def run_of_show(session: m.Session, start_clock: int | None = None) -> tuple[Row, ...]:
    """Rows with offsets (0:00–0:10) or, given a start in minutes after midnight, clock times."""
    rows = []
    fmt = time_label(start_clock)
    for i, seg in enumerate(session.segments):
        pairs = seg.of_kind("pair")
        rows.append(Row(f"{fmt(seg.start)}–{fmt(seg.end)}", seg.title, seg.kind,
                        seg.minutes, segment_anchor(session, i), seg.say,
                        pairs[0].minutes if pairs else None, cues(seg), fmt(seg.start)))
    return tuple(rows)


def cues(seg: m.Segment) -> tuple[Cue, ...]:
    """What the run sheet reminds the facilitator of: timer settings for each pair flip
    (minutes per turn, the swap, what is left for the debrief) and what to cut when late."""
    found = []
    for pair in seg.of_kind("pair"):
        if pair.minutes:
            turns = (f"{pair.minutes} min A explains · call “swap” · {pair.minutes} min B explains"
                     if pair.swap else f"{pair.minutes} min, one turn")
            left = seg.minutes - (pair.total_minutes or 0)
            debrief = f" · {left} min debrief" if left > 0 else ""
            found.append(Cue("Timer", turns + debrief))
        elif pair.swap:
            found.append(Cue("Timer", "split the time evenly, then call “swap”"))
    for note in seg.of_kind("timing"):
        if note.cut:
            found.append(Cue("Running long", note.cut))
    return tuple(found)


def timeline_image(session: m.Session, start_clock: int | None = None) -> Image:
    """The run of show as a timeline (SVG as a data: URL) with a text alternative."""
    fmt = time_label(start_clock)
    items = [timeline.Item(seg.title, seg.kind, seg.minutes) for seg in session.segments]
    times = [fmt(seg.start) for seg in session.segments] + [fmt(session.planned_minutes)]
    alt = (f"Timeline of session {session.number}: "
           + "; ".join(f"{i}. {seg.title}, {seg.kind}, {seg.minutes} min from {t}"
                       for i, (seg, t) in enumerate(zip(session.segments, times), start=1)))
    svg = timeline.timeline_svg(items, times, title=alt)
    return Image("data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"), alt)


def qr_image(url: str) -> Image:
    return Image(qr.qr_data_url(url), f"QR code for {url}")


def link_codes(session: m.Session, resources: bool = True) -> dict[str, Image]:
    """A QR code for every pre-work link (and resource link), keyed by URL."""
    urls = [p.url for p in session.prework if p.url]
    if resources:
        urls += [r.url for r in session.resources if r.url]
    return {url: qr_image(url) for url in dict.fromkeys(urls)}


def guide_context(session: m.Session, start_clock: int | None = None) -> dict:
    """Extra context for guide-session.html: the timeline, the QR codes of its links and
    the macro of blocks.html that prints each kind of block."""
    return {"timeline": timeline_image(session, start_clock), "qr": link_codes(session),
            "block_macros": guide_macros()}


_PARTICIPANT_CLASSES: dict[type, type] = {}
_PLAIN = (str, int, float, bool, type(None))


def participant_class(kind: type[kinds.Kind]) -> type:
    """A frozen class whose fields are the kind's participant fields and `src`, and whose
    `kind` is the kind's name: the worksheet's copy of a block can hold nothing else."""
    made = _PARTICIPANT_CLASSES.get(kind)
    if made is None:
        made = dataclasses.make_dataclass(
            f"{kind.__name__}ForParticipants",
            [(name, Any) for name in kind.participant_fields] + [("src", m.Source)],
            namespace={"kind": kind.name}, frozen=True)
        made.__module__ = __name__
        _PARTICIPANT_CLASSES[kind] = made
    return made


def participant_view(block: Any) -> Any:
    """The worksheet's copy of a block of a participant kind: its participant fields only.
    Each is plain text, a number, a truth value or a list of them, so that no object
    carries facilitator material along with it."""
    kind = kinds.kind_of(block)
    if kind is None or not kind.participant_fields:
        raise KitError(f"{block.src}: a '{getattr(block, 'kind', '?')}' block does not reach the worksheet")
    values = {}
    for name in kind.participant_fields:
        value = getattr(block, name)
        if isinstance(value, (tuple, list)) and all(isinstance(item, _PLAIN) for item in value):
            value = tuple(value)
        elif not isinstance(value, _PLAIN):
            raise KitError(f"block kind '{kind.name}': participant field '{name}' holds a "
                           f"{type(value).__name__}; it may hold only text, numbers, true or false, "
                           "or lists of them")
        values[name] = value
    return participant_class(kind)(src=block.src, **values)


def worksheet_view(session: m.Session, date: str = "") -> WorksheetSession:
    parts = []
    for seg in session.segments:
        blocks = tuple(participant_view(b) for b in seg.blocks if kinds.for_participants(b))
        if blocks:
            parts.append(WorksheetPart(seg.title, blocks))
    return WorksheetSession(session.number, session.id, session.title, date, session.prework,
                            session.prework_minutes, tuple(parts), link_codes(session, resources=False),
                            worksheet_macros())


@dataclass(frozen=True)
class IntroSection:
    heading: str  # inline Markdown; "" for text before the first heading
    body: str     # Markdown


@dataclass(frozen=True)
class Introduction:
    title: str    # the introduction's own `# ` heading, or ""
    sections: tuple[IntroSection, ...]


def introduction(text: str) -> Introduction:
    """The course introduction cut at its `#` and `##` headings (outside fenced code).

    Module Markdown keeps h1 and h2 for the guide's own sessions and segments, so the
    introduction's top headings are lifted out here and printed by the template as the
    front matter's h1 and h2 (and so as bookmarks); what lies under them stays Markdown.
    """
    title, heading = "", ""
    sections: list[IntroSection] = []
    body: list[str] = []
    fences = CodeFences()
    for line in text.splitlines():
        if fences.code(line):
            pass
        elif not line.startswith(" ") and (line.startswith("# ") or line.startswith("## ")):
            level = 1 if line.startswith("# ") else 2
            words = line.lstrip("#").strip().rstrip("#").strip()
            if level == 1 and not title and not sections and not "".join(body).strip():
                title = words
                continue
            if heading or "".join(body).strip():
                sections.append(IntroSection(heading, "\n".join(body).strip("\n")))
            heading, body = words, []
            continue
        body.append(line)
    if heading or "".join(body).strip():
        sections.append(IntroSection(heading, "\n".join(body).strip("\n")))
    return Introduction(title, tuple(sections))


def front_context(course: m.Course) -> dict:
    """Extra context for guide-front.html: the introduction, cut at its headings."""
    return {"intro": introduction(course.introduction)}
