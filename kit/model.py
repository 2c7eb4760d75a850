"""The course model: frozen dataclasses that know nothing about output.

No file access, no Jinja, no click here. Every element keeps its source file
and line. Derived values (offsets, totals, clock times) are computed here, in
Python, so that templates only print them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from kit.i18n import N_


@dataclass(frozen=True)
class Source:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    about: str = ""


@dataclass(frozen=True)
class Organisation:
    name: str
    about: str = ""
    products: tuple[Product, ...] = ()
    fictional: bool = False  # made up for the course's examples (course.yaml or the profile says)

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


# --- blocks -----------------------------------------------------------------

@dataclass(frozen=True)
class Talk:
    """Plain Markdown in a segment: the facilitator's talking points."""
    text: str
    src: Source
    kind: ClassVar[str] = "talk"


@dataclass(frozen=True)
class Note:
    text: str
    src: Source
    title: str = ""
    kind: ClassVar[str] = "note"


@dataclass(frozen=True)
class Say:
    text: str
    src: Source
    kind: ClassVar[str] = "say"


@dataclass(frozen=True)
class Anecdote:
    title: str
    story: str
    point: str
    source: str
    retell: str
    src: Source
    kind: ClassVar[str] = "anecdote"


@dataclass(frozen=True)
class Example:
    title: str
    product: str
    text: str
    src: Source
    kind: ClassVar[str] = "example"


@dataclass(frozen=True)
class PairActivity:
    title: str
    instructions: str
    role_a: str
    role_b: str
    minutes: int | None
    swap: bool
    debrief: tuple[str, ...]
    src: Source
    setup: int | None = None            # minutes to form the pairs and explain the task
    debrief_minutes: int | None = None  # minutes for the debrief; None: what the segment leaves

    kind: ClassVar[str] = "pair"

    @property
    def total_minutes(self) -> int | None:
        """The turns' minutes (both turns when the pair swaps)."""
        if self.minutes is None:
            return None
        return self.minutes * (2 if self.swap else 1)

    @property
    def planned_minutes(self) -> int:
        """Set-up, turns and debrief, as far as the block says them."""
        return (self.setup or 0) + (self.total_minutes or 0) + (self.debrief_minutes or 0)


@dataclass(frozen=True)
class Question:
    """An anticipated question or misconception, with its answer."""
    title: str
    text: str
    answer: str
    misconception: bool
    src: Source

    @property
    def kind(self) -> str:
        return "misconception" if self.misconception else "question"


@dataclass(frozen=True)
class Check:
    """A quick question to the room to check understanding."""
    title: str
    text: str
    answer: str
    src: Source
    fallback: str = ""  # what to do when nobody answers
    kind: ClassVar[str] = "check"


@dataclass(frozen=True)
class Ask:
    """A question put to the room to open or carry a discussion."""
    title: str
    text: str
    answer: str    # what to listen for
    fallback: str  # what to do when nobody answers
    src: Source
    kind: ClassVar[str] = "ask"


@dataclass(frozen=True)
class Cut:
    """What to drop when the session runs late: part of the segment it is written in.

    `decide` is the moment (minutes from the session's start) by which the cut must be
    chosen: as written, or by default `latest`, the last moment at which the segment
    still holds the minutes it saves and those of the segment's cuts written after it.
    """
    title: str
    saves: int
    decide_at: int | None  # as written ('decide:'); None: the default
    text: str
    src: Source
    latest: int = 0   # minutes from the session's start; set with its segment
    kind: ClassVar[str] = "cut"

    @property
    def decide(self) -> int:
        return self.decide_at if self.decide_at is not None else self.latest


@dataclass(frozen=True)
class Prompt:
    """A worksheet prompt. Its answer is for the guide only."""
    title: str
    text: str
    answer: str
    lines: int
    src: Source
    kind: ClassVar[str] = "prompt"


@dataclass(frozen=True)
class TimingNote:
    cut: str
    add: str
    text: str
    src: Source
    kind: ClassVar[str] = "timing"


@dataclass(frozen=True)
class ByoExample:
    """Room for the organisation's own example, where a session has none for its products.

    Stands in the guide where the course's example (`model`) stood, and prints it as a
    model. Made by kit.orgs.apply_org, never by the parser.
    """
    model: Example
    model_product: str           # the name of the product `model` is about
    organisation: str            # the organisation's name
    products: tuple[str, ...]    # the names of the organisation's products
    src: Source
    kind: ClassVar[str] = "byo"


class Block(Protocol):
    """What every block of a segment has. Each kind of block, its model class and what
    may be done with it are declared in kit.kinds."""

    @property
    def kind(self) -> str: ...

    @property
    def src(self) -> Source: ...


# --- sessions and courses ----------------------------------------------------

@dataclass(frozen=True)
class Pace:
    """When a block of a segment begins (and how long it takes), as its author planned it
    with 'at:' and 'takes:'. Found by the block's source line."""
    src: Source
    start: int            # minutes from the session's start
    minutes: int | None   # None: only a starting time
    label: str            # a few words that name the block on the run sheet


@dataclass(frozen=True)
class Segment:
    title: str
    kind: str
    minutes: int
    start: int  # minutes from the session's start
    blocks: tuple[Block, ...]
    src: Source
    paces: tuple[Pace, ...] = ()

    def pace(self, block) -> Pace | None:
        return next((p for p in self.paces if p.src == block.src), None)

    @property
    def end(self) -> int:
        return self.start + self.minutes

    def of_kind(self, kind: str) -> tuple:
        return tuple(b for b in self.blocks if b.kind == kind)

    @property
    def say(self) -> str:
        """The one line to say aloud, for the run sheet ('' when none)."""
        says = self.of_kind("say")
        return says[0].text if says else ""


@dataclass(frozen=True)
class PreworkItem:
    title: str
    url: str
    minutes: int | None
    kind: str
    estimate: bool
    src: Source


@dataclass(frozen=True)
class PreparationItem:
    task: str
    minutes: int
    src: Source


@dataclass(frozen=True)
class Resource:
    title: str
    url: str
    src: Source


@dataclass(frozen=True)
class Session:
    number: int
    slug: str
    title: str
    minutes: int
    objectives: tuple[str, ...]
    prework: tuple[PreworkItem, ...]
    materials: tuple[str, ...]
    preparation: tuple[PreparationItem, ...]
    think_about: tuple[str, ...]
    resources: tuple[Resource, ...]
    overview: str
    segments: tuple[Segment, ...]
    src: Source

    @property
    def id(self) -> str:
        return f"s{self.number:02d}"

    @property
    def stem(self) -> str:
        """'03-reducing-loss': the module's name without '.md', as output files use it."""
        return f"{self.number:02d}-{self.slug}"

    @property
    def planned_minutes(self) -> int:
        return sum(s.minutes for s in self.segments)

    @property
    def prework_minutes(self) -> int:
        return sum(p.minutes or 0 for p in self.prework)

    @property
    def prework_has_estimates(self) -> bool:
        return any(p.estimate for p in self.prework)

    @property
    def preparation_minutes(self) -> int:
        return sum(p.minutes for p in self.preparation)

    def blocks(self, *kinds: str) -> tuple:
        return tuple(b for s in self.segments for b in s.blocks if not kinds or b.kind in kinds)


MOVES = (  # the situations a course may say what to do in, in the order they are printed
    ("silence", N_("Nobody answers")),  # N_: in the catalogue; printed with the `words` filter
    ("no_prework", N_("Few did the pre-work")),
    ("odd_number", N_("An odd number for a pair flip")),
    ("one_voice", N_("One voice dominates")),
    ("projector", N_("The projector fails")),
    ("collect", N_("At the end: what to collect")),
)


@dataclass(frozen=True)
class Move:
    key: str       # 'silence'
    when: str      # 'Nobody answers'
    what: str      # Markdown: what to do


@dataclass(frozen=True)
class Course:
    slug: str
    title: str
    subtitle: str
    audience: str
    language: str
    session_minutes: int
    follows: str
    organisation: Organisation
    introduction: str
    sessions: tuple[Session, ...]
    src: Source
    version: str = ""  # a short hash of the course's content
    moves: tuple[Move, ...] = ()  # general facilitation moves, printed in every session's guide
    recovery_minutes: int = 10    # per 90 minutes: what cuts must recover from a session's midpoint on

    def move(self, key: str) -> Move | None:
        return next((mv for mv in self.moves if mv.key == key), None)

    def recovery_needed(self, session: "Session") -> int:
        """Minutes the cuts of `session` must be able to recover from its midpoint on."""
        return -(-self.recovery_minutes * session.minutes // 90)

    def session(self, key: str | int) -> Session | None:
        """The session a user names: its number ('3', '03', '003'), slug, or file stem."""
        for s in self.sessions:
            if names_session(str(key), s.number, s.slug, s.stem):
                return s
        return None


@dataclass(frozen=True)
class Kit:
    courses: tuple[Course, ...] = field(default_factory=tuple)

    def course(self, slug: str) -> Course | None:
        return next((c for c in self.courses if c.slug == slug), None)


def names_session(key: str, number: int, slug: str, stem: str) -> bool:
    """Whether `key`, as a user types it on the command line or in a profile, names the
    session numbered `number` with that slug and file stem ('03-reducing-loss'). The one
    rule for every command and file that names a session."""
    key = key.strip()
    if key.isascii() and key.isdigit() and len(key) <= 3:  # '3', '03', '003'
        return int(key) == number
    return key in (slug, stem, f"{stem}.md")


def matching_titles(titles: list[str], wanted: str) -> list[int]:
    """The indexes of the titles that name `wanted`: the same words (spacing ignored on
    both sides), else the same words in any case. The one rule for naming a segment."""
    def words(text: str) -> str:
        return " ".join(text.split())

    wanted = words(wanted)
    exact = [i for i, t in enumerate(titles) if words(t) == wanted]
    return exact or [i for i, t in enumerate(titles) if words(t).casefold() == wanted.casefold()]


def clock(minutes: int) -> str:
    """Offset in minutes as h:mm, e.g. 75 -> '1:15'."""
    return f"{minutes // 60}:{minutes % 60:02d}"


def wall_clock(minutes: int) -> str:
    """Minutes after midnight as a time of day, e.g. 750 -> '12:30'."""
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
