"""`kit announce`: the weekly pre-work announcement, in Markdown for chat or e-mail.

It says which session is next (and, with a delivery, when and where), lists the
pre-work with links and minutes, the total time, and the questions to think
about before class. It uses only what participants may see: no facilitator
material (overview, talking points, answers) ever reaches it.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from kit import model as m
from kit.delivery import Delivery, format_date, load_delivery
from kit.edit import find_module
from kit.errors import KitError
from kit.loader import load_kit

KIND_LABELS = {"video": "Video", "reading": "Reading", "exercise": "Exercise"}


def _text(value: str) -> str:
    """Author text inside a Markdown line: on one line, with link brackets escaped."""
    return re.sub(r"([\[\]])", r"\\\1", " ".join(value.split()))


def _url(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url


def _minutes(item: m.PreworkItem) -> str:
    if item.minutes is None:
        return "time not given"
    return f"{item.minutes} min, estimated" if item.estimate else f"{item.minutes} min"


def announcement(course: m.Course, session: m.Session, delivery: Delivery | None = None) -> str:
    """The announcement of `session` as Markdown text."""
    out = [f"**{_text(course.title)}, session {session.number}: {_text(session.title)}**", ""]
    if delivery is not None:
        index = course.sessions.index(session)
        day: dt.date = delivery.dates(len(course.sessions))[index]
        out.append(f"- **When:** {format_date(day)}, {delivery.start}–"
                   f"{m.wall_clock(delivery.start_minutes + session.minutes)}")
        if delivery.room:
            out.append(f"- **Where:** {_text(delivery.room)}")
        if delivery.facilitator:
            out.append(f"- **Facilitator:** {_text(delivery.facilitator)}")
        out.append("")
    if session.prework:
        out += ["**Before the session**, please work through:", ""]
        for item in session.prework:
            label = KIND_LABELS.get(item.kind, item.kind.capitalize())
            link = f"[{_text(item.title)}]({_url(item.url)})" if item.url else _text(item.title)
            out.append(f"- {label}: {link} ({_minutes(item)})")
        out.append("")
        total = session.prework_minutes
        if any(item.minutes is None for item in session.prework):
            length = f"at least {total} minutes (one item does not say how long it takes)"
        elif session.prework_has_estimates:
            length = f"about {total} minutes (some times are estimates)"
        else:
            length = f"{total} minutes"
        out += [f"**Total pre-work:** {length}.", ""]
    else:
        out += ["There is no pre-work for this session.", ""]
    if session.think_about:
        out.append("**Questions to think about** before we meet:")
        out.append("")
        out += [f"{i}. {_text(q)}" for i, q in enumerate(session.think_about, 1)]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def announce(root: Path, session: str, course: str | None = None,
             delivery: Path | None = None) -> str:
    """Load the kit and return the announcement for `session` (NN, slug or a module's path)."""
    ref = find_module(root, session, course)
    loaded = load_kit(ref.root, ref.course)
    problems = loaded.problems
    found = loaded.kit.course(ref.course)
    the_delivery = load_delivery(Path(delivery), problems) if delivery else None
    # Errors in other sessions do not stop the announcement of this one.
    rel = problems.rel(ref.path)
    course_file = problems.rel(ref.root / "content" / ref.course / "course.yaml")
    blocking = [p for p in problems.errors
                if p.path in (rel, course_file) or (delivery and p.path == problems.rel(delivery))]
    if blocking or found is None:
        raise KitError(blocking or problems.errors)
    chosen = next((s for s in found.sessions if s.number == ref.number), None)
    if chosen is None:  # pragma: no cover - a module without errors always parses
        raise KitError(f"cannot read {rel}")
    return announcement(found, chosen, the_delivery)

