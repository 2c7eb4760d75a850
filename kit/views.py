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
import re
from dataclasses import dataclass, field
from typing import Any

from kit import kinds
from kit.fences import CodeFences
from kit import model as m
from kit import qr, timeline
from kit.i18n import gettext as _
from kit.i18n import kind_word
from kit.errors import KitError


def of_block(pairs, block, default=None):
    """The value paired with `block` (by its source line) in a tuple of (Source, value)."""
    return next((value for src, value in pairs if src == block.src), default)


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
class PlannedCut:
    """A cut of the session's recovery plan, numbered in the order it must be decided."""
    number: int
    title: str
    saves: int
    decide: str    # when to decide by, as printed ("0:41" or "12:41")
    segment: str   # the title of the segment it shortens
    anchor: str    # that segment's anchor
    src: m.Source
    early: bool = False  # to be decided before the session's midpoint

    @property
    def label(self) -> str:
        return f"C{self.number}"


@dataclass(frozen=True)
class Recovery:
    """What can still be recovered from a moment of the session on."""
    at: str                 # the moment, as printed
    minutes: int
    cuts: tuple[str, ...]   # the labels of the cuts, in order ("C2", "C3")

    @property
    def span(self) -> str:
        return cut_span(self.cuts)


def cut_span(labels: tuple[str, ...]) -> str:
    """'C2–C5', or 'C3' alone. The cuts named together are always consecutive in the plan
    (it is in the order of their decision points): those still ahead of a moment are its
    last ones, and so are the last segment's own."""
    return labels[0] if len(labels) == 1 else f"{labels[0]}–{labels[-1]}"


def plan_labels(plan: tuple[PlannedCut, ...], cuts) -> tuple[str, ...]:
    """The recovery plan's labels ("C2") of `cuts`, in the plan's order."""
    wanted = {c.src for c in cuts}
    return tuple(c.label for c in plan if c.src in wanted)


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
    recovery: Recovery | None = None  # from this segment's start on ('behind? ...')
    times: tuple[tuple[m.Source, str], ...] = ()  # each paced block's time, as printed

    def time_of(self, block) -> str:
        """'0:40 · 5 min' for a paced block of this segment, else ''."""
        return of_block(self.times, block, "")


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
    think_about: tuple[str, ...] = ()
    numbers: tuple[tuple[m.Source, int], ...] = ()  # the question number of each numbered block
    # The answer key only (the facilitator's copy of the worksheet): each answer by its
    # block. Empty on every participant's worksheet.
    answers: tuple[tuple[m.Source, str], ...] = ()
    answer_key: bool = False

    @property
    def card_id(self) -> str:
        return feedback_card_id(self.id)

    def number_of(self, block) -> int | None:
        return of_block(self.numbers, block)

    def answer_of(self, block) -> str:
        return of_block(self.answers, block, "")

    def answer_id(self, block) -> str:
        return f"{answer_prefix(self.id)}{block.src.line}"

    @property
    def bookmark_at(self) -> m.Source | None:
        """On the answer key, the block that carries the key's bookmark: its first answer,
        since only the pages with answers are kept (kit.pdf). None: the title carries it."""
        return self.answers[0][0] if self.answer_key and self.answers else None

    def anchor_of(self, block) -> str:
        """The anchor of a numbered block: the same on the worksheet and its answer key."""
        number = self.number_of(block)
        return f"{self.id}-q{number}" if number else ""


def segment_anchor(session: m.Session, index: int) -> str:
    return f"{session.id}-seg{index + 1}"


def answer_prefix(session_id: str) -> str:
    """What the id of each answer on a session's answer key starts with: the build keeps
    only the key's pages that hold one (kit.pdf.render_pdf)."""
    return f"{session_id}-answer-"


def feedback_card_id(session_id: str) -> str:
    """The id of a session's tear-off feedback card, on its worksheet."""
    return f"{session_id}-card"


def time_label(start_clock: int | None):
    """How an offset into a session is printed: '0:10', or with a start time '12:40'."""
    if start_clock is None:
        return m.clock
    return lambda offset: m.wall_clock(start_clock + offset)


def recovery_plan(session: m.Session, start_clock: int | None = None) -> tuple[PlannedCut, ...]:
    """The session's cuts in the order they must be decided (the earliest deadline first)."""
    fmt = time_label(start_clock)
    found = []
    for i, seg in enumerate(session.segments):
        for cut in seg.of_kind("cut"):
            found.append((cut.decide, cut.src.line, cut, seg, segment_anchor(session, i)))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(PlannedCut(n, cut.title, cut.saves, fmt(decide), seg.title, anchor, cut.src,
                            decide < midpoint(session))
                 for n, (decide, _, cut, seg, anchor) in enumerate(found, start=1))


def recoverable(session: m.Session, moment: int) -> tuple[int, tuple[m.Cut, ...]]:
    """The minutes the cuts can still recover at `moment` (minutes from the session's
    start), and those cuts: each whose decision point is not yet past."""
    cuts = tuple(c for c in session.blocks("cut") if c.decide >= moment)
    return sum(c.saves for c in cuts), cuts


def midpoint(session: m.Session) -> int:
    return session.minutes // 2


def run_of_show(session: m.Session, start_clock: int | None = None) -> tuple[Row, ...]:
    """Rows with offsets (0:00–0:10) or, given a start in minutes after midnight, clock times."""
    rows = []
    fmt = time_label(start_clock)
    plan = recovery_plan(session)
    for i, seg in enumerate(session.segments):
        pairs = seg.of_kind("pair")
        minutes, cuts = recoverable(session, seg.start)
        recovery = None
        if minutes:
            recovery = Recovery(fmt(seg.start), minutes, plan_labels(plan, cuts))
        times = tuple((p.src, f"{fmt(p.start)}" + (" · " + _("%(n)s min") % {"n": p.minutes} if p.minutes else ""))
                      for p in seg.paces)
        rows.append(Row(f"{fmt(seg.start)}–{fmt(seg.end)}", seg.title, seg.kind,
                        seg.minutes, segment_anchor(session, i), seg.say,
                        pairs[0].minutes if pairs else None, cues(seg, fmt), fmt(seg.start),
                        recovery, times))
    return tuple(rows)


def pair_split(pair: m.PairActivity, room: int, start: int = 0, fmt=m.clock) -> str:
    """The timer's plan of a pair flip of `room` minutes starting at `start`: when the
    set-up, each turn, the swap and the debrief begin, and how long each lasts."""
    pieces, at = [], start
    if pair.setup:
        pieces.append(_("%(time)s set-up (%(n)s min)") % {"time": fmt(at), "n": pair.setup})
        at += pair.setup
    if pair.minutes:
        if pair.swap:
            pieces.append(_("%(time)s A explains (%(n)s min)") % {"time": fmt(at), "n": pair.minutes})
            pieces.append(_("%(time)s call “swap”: B explains (%(n)s min)")
                          % {"time": fmt(at + pair.minutes), "n": pair.minutes})
        else:
            pieces.append(_("%(time)s one turn (%(n)s min)") % {"time": fmt(at), "n": pair.minutes})
        at += pair.total_minutes or 0
    elif pair.swap:
        pieces.append(_("split the time evenly, then call “swap”"))
    debrief = pair.debrief_minutes
    if debrief is None and pair.minutes:
        debrief = room - (pair.setup or 0) - (pair.total_minutes or 0)
    if debrief:
        pieces.append(_("%(time)s debrief (%(n)s min)") % {"time": fmt(at), "n": debrief})
    return " · ".join(pieces)


def cues(seg: m.Segment, fmt=m.clock) -> tuple[Cue, ...]:
    """What the run sheet reminds the facilitator of: the times of the paced blocks and the
    timer's plan for each pair flip (set-up, turns, the swap, the debrief). The cuts are in
    the run sheet's recovery plan and its 'recover' column."""
    found = []
    if seg.paces:  # one line that wraps: the run sheet must stay on one page
        found.append(Cue(_("Times"), " · ".join(f"{fmt(p.start)} {p.label}"
                                                 + (" (" + _("%(n)s min") % {"n": p.minutes} + ")" if p.minutes else "")
                                                 for p in seg.paces)))
    for pair in seg.of_kind("pair"):
        paced = seg.pace(pair)
        room = paced.minutes if paced and paced.minutes else seg.minutes
        split = pair_split(pair, room, paced.start if paced else seg.start, fmt)
        if split:
            found.append(Cue(_("Timer"), split))
    for note in seg.of_kind("timing"):
        if note.cut:
            found.append(Cue(_("Running long"), note.cut))
    return tuple(found)


def named_products(session: m.Session, organisation: m.Organisation) -> tuple[m.Product, ...]:
    """The organisation's products that the session names: by id in an example, or by
    name (whole words, as written) anywhere in its text."""
    texts = [session.title, session.overview, *session.objectives, *session.materials, *session.think_about]
    ids = set()
    for block in session.blocks():
        for value in vars(block).values():  # its texts, and lists of texts (a pair's debrief)
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, tuple):
                texts += [item for item in value if isinstance(item, str)]
        if isinstance(block, m.Example):
            ids.add(block.product)
    text = "\n".join(texts)

    def named(name: str) -> bool:  # whole words, as written; a line may break between them
        words = r"\s+".join(re.escape(word) for word in name.split())
        return bool(words) and re.search(rf"(?<!\w){words}(?!\w)", text) is not None

    return tuple(p for p in organisation.products if p.id in ids or named(p.name))


def question_numbers(session: m.Session) -> dict[m.Source, int]:
    """The number of each numbered block (a prompt) as the worksheet prints it."""
    numbered = [b for s in session.segments for b in s.blocks
                if kinds.for_participants(b) and (k := kinds.kind_of(b)) is not None and k.numbered]
    return {b.src: n for n, b in enumerate(numbered, start=1)}


def timeline_image(session: m.Session, start_clock: int | None = None) -> Image:
    """The run of show as a timeline (SVG as a data: URL) with a text alternative."""
    fmt = time_label(start_clock)
    items = [timeline.Item(seg.title, seg.kind, seg.minutes) for seg in session.segments]
    times = [fmt(seg.start) for seg in session.segments] + [fmt(session.planned_minutes)]
    alt = (_("Timeline of session %(number)s: ") % {"number": session.number}
           + "; ".join(_("%(i)s. %(title)s, %(kind)s, %(n)s min from %(time)s")
                       % {"i": i, "title": seg.title, "kind": kind_word(seg.kind), "n": seg.minutes, "time": t}
                       for i, (seg, t) in enumerate(zip(session.segments, times), start=1)))
    svg = timeline.timeline_svg(items, times, title=alt)
    return Image("data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"), alt)


def qr_image(url: str) -> Image:
    return Image(qr.qr_data_url(url), _("QR code for %(url)s") % {"url": url})


def link_codes(session: m.Session, resources: bool = True) -> dict[str, Image]:
    """A QR code for every pre-work link (and resource link), keyed by URL."""
    urls = [p.url for p in session.prework if p.url]
    if resources:
        urls += [r.url for r in session.resources if r.url]
    return {url: qr_image(url) for url in dict.fromkeys(urls)}


# How far behind the recovery plan's worked example is, at the session's midpoint.
EXAMPLE_BEHIND = 12


@dataclass(frozen=True)
class BehindExample:
    """The recovery plan's worked example, from the session's own numbers: behind by
    EXAMPLE_BEHIND minutes at the midpoint on the clock, where the plan is, and which
    cuts are still to be had there (None: none is)."""
    clock: str
    plan: str
    recovery: Recovery | None


def behind_example(session: m.Session, start_clock: int | None = None) -> BehindExample | None:
    """None for a session too short to be that far behind at its midpoint."""
    at = midpoint(session)
    if at < EXAMPLE_BEHIND:
        return None
    fmt = time_label(start_clock)
    where = at - EXAMPLE_BEHIND
    minutes, cuts = recoverable(session, where)
    labels = plan_labels(recovery_plan(session), cuts)
    return BehindExample(fmt(at), fmt(where), Recovery(fmt(where), minutes, labels) if labels else None)


@dataclass(frozen=True)
class LastCall:
    """When the cuts are not enough: the moment to leave whatever is running for the last
    segment (the wrap-up), so that the session still ends on time. Its own cuts, taken
    then, let it start that much later."""
    at: str         # the moment, on the clock: its planned start plus what its cuts save
    number: int     # its number in the run sheet
    title: str
    minutes: int    # what it lasts then
    end: str        # the session's planned end, as printed
    anchor: str
    cuts: str = ""  # its own cuts, to take then ("C6–C7"); "" if it has none


def last_call(session: m.Session, start_clock: int | None = None) -> LastCall | None:
    """None for a session of one segment: there is nothing to leave for its last."""
    if len(session.segments) < 2:
        return None
    fmt = time_label(start_clock)
    last = session.segments[-1]
    own = last.of_kind("cut")
    labels = plan_labels(recovery_plan(session), own)
    saved = sum(c.saves for c in own)
    return LastCall(fmt(last.start + saved), len(session.segments), last.title, last.minutes - saved,
                    fmt(session.planned_minutes), segment_anchor(session, len(session.segments) - 1),
                    cut_span(labels) if labels else "")


@dataclass(frozen=True)
class Standalone:
    """What a session printed alone needs of its course: the organisation, the products
    the session names, the general moves, the recovery plan and the worksheet's numbers."""
    organisation: m.Organisation
    products: tuple[m.Product, ...]
    moves: tuple[m.Move, ...]
    cuts: tuple[PlannedCut, ...]
    midpoint: str               # the session's midpoint, as printed
    recoverable: int            # minutes the cuts can recover from the midpoint on
    numbers: tuple[tuple[m.Source, int], ...]
    last_call: LastCall | None = None
    behind: BehindExample | None = None

    def number_of(self, block) -> int | None:
        return of_block(self.numbers, block)

    def cut_of(self, block) -> PlannedCut | None:
        """The recovery plan's entry for a cut block (its number, when to decide), else None."""
        return of_block(((c.src, c) for c in self.cuts), block)


@dataclass(frozen=True)
class DebriefRow:
    key: str        # the segment's title, as the debrief file names it
    planned: str    # its planned start, as printed
    minutes: int


@dataclass(frozen=True)
class DebriefPage:
    """The debrief page at the end of a session's guide: the debrief file's headings, in
    its order (kit.debrief.prefill), with room to write."""
    command: str                       # the command that writes the file to type it into
    rows: tuple[DebriefRow, ...]
    end: str                           # the session's planned end, as printed
    cuts: tuple[PlannedCut, ...]
    stories: tuple[str, ...]           # anecdotes' and examples' titles


def debrief_page(session: m.Session, start_clock: int | None = None) -> DebriefPage:
    fmt = time_label(start_clock)
    rows = tuple(DebriefRow(seg.title, fmt(seg.start), seg.minutes) for seg in session.segments)
    stories = tuple(b.title for b in session.blocks("anecdote", "example") if b.title)
    return DebriefPage(f"kit debrief {session.number} --delivery DELIVERY.yaml", rows,
                       fmt(session.planned_minutes), recovery_plan(session, start_clock), stories)


def guide_context(session: m.Session, start_clock: int | None = None,
                  course: m.Course | None = None, organisation: m.Organisation | None = None,
                  took: dict[int, str] | None = None) -> dict:
    """Extra context for guide-session.html: the timeline, the QR codes of its links,
    the macro of blocks.html that prints each kind of block, what the session needs
    to stand alone, its debrief page, and (from earlier deliveries' debriefs) what each
    segment took in practice, by segment index."""
    fmt = time_label(start_clock)
    org = organisation or (course.organisation if course else m.Organisation(""))
    standalone = Standalone(org, named_products(session, org), course.moves if course else (),
                            recovery_plan(session, start_clock), fmt(midpoint(session)),
                            recoverable(session, midpoint(session))[0],
                            tuple(question_numbers(session).items()), last_call(session, start_clock),
                            behind_example(session, start_clock))
    return {"timeline": timeline_image(session, start_clock), "qr": link_codes(session),
            "block_macros": guide_macros(), "alone": standalone,
            "debrief": debrief_page(session, start_clock), "took": took or {}}


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
                            worksheet_macros(), session.think_about, tuple(question_numbers(session).items()))


def answer_key_view(session: m.Session, date: str = "") -> WorksheetSession:
    """The facilitator's copy of the worksheet: the same pages, with each answer printed
    over the lines of its question. For the guide only, never a participant's document."""
    sheet = worksheet_view(session, date)
    answers = tuple((b.src, answer) for b in session.blocks() if kinds.for_participants(b)
                    for answer in [str(getattr(b, "answer", None) or "")] if answer)
    return dataclasses.replace(sheet, answers=answers, answer_key=True)


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
