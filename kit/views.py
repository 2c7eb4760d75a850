"""What each document may see, computed in Python before any template runs.

The worksheet view is built from the model by keeping only participant
material (pre-work, prompts without their answers, pair activities): the
facilitator's notes never reach the worksheet template, so they cannot leak
into a participant's PDF through a template mistake.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from kit import model as m


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


@dataclass(frozen=True)
class WorksheetPart:
    title: str
    blocks: tuple  # Prompt (answer removed) or PairActivity


@dataclass(frozen=True)
class WorksheetSession:
    number: int
    id: str
    title: str
    date: str
    prework: tuple[m.PreworkItem, ...]
    prework_minutes: int
    parts: tuple[WorksheetPart, ...]


def segment_anchor(session: m.Session, index: int) -> str:
    return f"{session.id}-seg{index + 1}"


def run_of_show(session: m.Session, start_clock: int | None = None) -> tuple[Row, ...]:
    """Rows with offsets (0:00–0:10) or, given a start in minutes after midnight, clock times."""
    rows = []
    base = start_clock or 0
    fmt = m.clock if start_clock is None else _wall
    for i, seg in enumerate(session.segments):
        pairs = seg.of_kind("pair")
        rows.append(Row(f"{fmt(base + seg.start)}–{fmt(base + seg.end)}", seg.title, seg.kind,
                        seg.minutes, segment_anchor(session, i), seg.say,
                        pairs[0].minutes if pairs else None))
    return tuple(rows)


def _wall(minutes: int) -> str:
    """Minutes after midnight as a wall-clock time, e.g. 750 -> '12:30'."""
    minutes %= 24 * 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def worksheet_view(session: m.Session, date: str = "") -> WorksheetSession:
    parts = []
    for seg in session.segments:
        blocks = tuple(dataclasses.replace(b, answer="") if isinstance(b, m.Prompt) else b
                       for b in seg.blocks if b.for_participants)
        if blocks:
            parts.append(WorksheetPart(seg.title, blocks))
    return WorksheetSession(session.number, session.id, session.title, date, session.prework,
                            session.prework_minutes, tuple(parts))
