"""What the importer reads of a Carpentries lesson, whatever its format.

Both readers (Workbench, and Jekyll styles through kit.carpentries.jekyll) produce
these objects; kit.carpentries.mapping turns them into a kit. Every piece knows the
lesson file and line it came from (`Where`), so that a problem found later still
points into the lesson. What participants may see is decided here, by type:
an `Exercise`'s `text` is the only lesson text that can reach a worksheet, and
nothing written as a solution is ever put into it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    path: str  # relative to the lesson folder
    line: int


@dataclass(frozen=True)
class Prose:
    """Lesson text, code and output included: the facilitator's talking points."""
    text: str
    where: Where


@dataclass(frozen=True)
class Exercise:
    """A challenge or a discussion. `text` (with its hints) is for participants; the
    solutions and instructor notes found anywhere inside it are not."""
    kind: str                     # 'challenge' or 'discussion'
    title: str
    text: str
    hints: tuple[str, ...]
    solutions: tuple[str, ...]    # in the order written, nested ones included
    notes: tuple[str, ...]        # instructor divs inside the exercise
    where: Where


@dataclass(frozen=True)
class Aside:
    """Any other div: a callout, an instructor note, a testimonial, a solution outside
    an exercise...; `kind` is its name in the lesson."""
    kind: str
    title: str
    text: str
    where: Where


Item = Prose | Exercise | Aside


@dataclass(frozen=True)
class Section:
    """The text under one `##` heading (or before the first one: title '')."""
    title: str
    where: Where
    items: tuple[Item, ...]

    @property
    def exercises(self) -> int:
        return sum(1 for item in self.items if isinstance(item, Exercise) and item.kind == "challenge")

    @property
    def words(self) -> int:
        return sum(len(getattr(item, "text", "").split()) for item in self.items)


@dataclass(frozen=True)
class Episode:
    source: str           # relative to the lesson folder
    title: str
    teaching: int
    exercises: int
    break_minutes: int
    start: bool           # starts a new day (a new session)
    questions: tuple[str, ...]
    objectives: tuple[str, ...]
    keypoints: tuple[str, ...]
    sections: tuple[Section, ...]
    rmd: bool             # R Markdown: chunks kept as code, never run
    where: Where

    @property
    def minutes(self) -> int:
        return self.teaching + self.exercises + self.break_minutes

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)


@dataclass(frozen=True)
class Page:
    """A page of the lesson that is not an episode (setup, instructor notes)."""
    source: str
    title: str
    sections: tuple[Section, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(item for section in self.sections for item in section.items)


@dataclass(frozen=True)
class Lesson:
    title: str
    url: str                  # the lesson's website ('' when unknown): relative links point there
    carpentry: str            # 'swc', 'dc', 'lc', 'incubator'...: the organisation
    source_format: str        # 'workbench' or 'jekyll'
    episodes: tuple[Episode, ...]
    setup: Page | None
    instructor_notes: Page | None
    figures: tuple[tuple[str, str], ...]  # (as written in the kit, lesson-relative source path)
