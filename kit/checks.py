"""Lint warnings over a loaded model: what makes a session hard to run.

Errors stop a build (they are found while loading); these warnings point at
what a new facilitator would miss. `kit check --strict` turns them into
failures. Each check returns nothing and reports through `warn(path, line, msg)`.
"""
from __future__ import annotations

import functools
from typing import Callable

from kit import kinds
from kit import model as m
from kit.links import url_scheme
from kit.markdown import html_tags

CHECK_EVERY = 15  # minutes
Warn = Callable[[str, int, str], None]


def formative_checks(segment: m.Segment) -> int:
    """How many of the segment's blocks are formative checks (kit.kinds)."""
    return sum(1 for b in segment.blocks if kinds.is_formative(b))


def formative_gaps(session: m.Session) -> list[tuple[m.Segment, float]]:
    """Segments at which more than CHECK_EVERY minutes have passed without a check.

    Checks inside a segment are taken as evenly spread over it; a segment of
    kind 'pair' is a check for its whole length; breaks do not count.
    """
    gaps = []
    since = 0.0
    for segment in session.segments:
        if segment.kind == "break":
            continue
        if segment.kind == "pair":
            k = max(formative_checks(segment), 1)
            piece = segment.minutes / (k + 1)
            if since + piece > CHECK_EVERY:
                gaps.append((segment, since + piece))
            since = 0.0
            continue
        k = formative_checks(segment)
        if k == 0:
            since += segment.minutes
            if since > CHECK_EVERY:
                gaps.append((segment, since))
        else:
            piece = segment.minutes / (k + 1)
            if since + piece > CHECK_EVERY:
                gaps.append((segment, since + piece))
            since = piece
    return gaps


def _images_and_links(text: str) -> tuple[list[str | None], list[str]]:
    """The alt text of each image (None: no alt attribute) and each link's address,
    read from the text's HTML as Markdown makes it (no regular expression to backtrack)."""
    if not text or ("<" not in text and "](" not in text and "]:" not in text):
        return [], []
    alts, hrefs = [], []
    for tag, attrs in html_tags(text):
        values = dict(attrs)
        if tag == "img":
            alts.append(values.get("alt"))
        elif tag == "a" and values.get("href"):
            hrefs.append(values["href"].strip())
    return alts, hrefs


def _texts(block) -> list[str]:
    return [v for v in vars(block).values() if isinstance(v, str)]


def check_session(course: m.Course, session: m.Session, warn: Warn) -> None:
    path = session.src.path
    if not session.objectives:
        warn(path, 1, "the session has no objectives")
    formative = kinds.joined(k.described() for k in kinds.formative_kinds())
    for segment, minutes in formative_gaps(session):
        warn(segment.src.path, segment.src.line,
             f"about {minutes:.0f} minutes pass without a formative check ({formative}) "
             f"by the end of '{segment.title}'; aim for one every {CHECK_EVERY} minutes")
    for item in session.prework:
        if item.minutes is None:
            warn(path, item.src.line, f"pre-work '{item.title}' has no minutes")
        if url_scheme(item.url) == "http":  # other schemes are refused while loading (kit.links)
            warn(path, item.src.line, f"pre-work link is not https: {item.url}")
        if not item.url:
            warn(path, item.src.line, f"pre-work '{item.title}' has no url")
    for res in session.resources:
        if url_scheme(res.url) == "http":
            warn(path, res.src.line, f"resource link is not https: {res.url}")
    anticipating = [k.name for k in kinds.anticipating_kinds()]
    if anticipating and not session.blocks(*anticipating):
        quoted = kinds.joined("'" + name + "'" for name in anticipating)
        warn(path, 1, f"the session anticipates no questions: add {quoted} blocks")
    timing = [k.name for k in kinds.timing_kinds()]
    if timing and not session.blocks(*timing):
        warn(path, 1, "the session has no timing note: say what to cut if running long "
                      "and what to add if running short")
    check_recovery(course, session, warn)
    check_fallbacks(course, session, warn)
    for block in session.blocks():
        # A block may come from an organisation profile rather than the module.
        path, line = block.src.path, block.src.line
        kind = kinds.kind_of(block)
        if kind is not None:
            kind.lint(block, functools.partial(warn, path, line))
        for text in _texts(block):
            alts, hrefs = _images_and_links(text)
            for alt in alts:
                if alt is None:
                    warn(path, line, "an <img> has no alt text")
                elif not alt.strip():
                    warn(path, line, "an image has no alt text: write it between the brackets ![...](...)")
            for url in hrefs:
                if url_scheme(url) == "http":  # other schemes are loader errors (kit.links)
                    warn(path, line, f"link is not https: {url}")


def check_recovery(course: m.Course, session: m.Session, warn: Warn) -> None:
    """From the session's midpoint on, the cuts must be able to recover the course's share
    (course.yaml `recovery_minutes` per 90 minutes, scaled to the session's length)."""
    from kit.views import midpoint, recoverable

    needed = course.recovery_needed(session)
    half = midpoint(session)
    can, _ = recoverable(session, half)
    if needed and can < needed:
        warn(session.src.path, 1,
             f"from the midpoint ({m.clock(half)}) on, the cuts can recover {can} minutes; the course asks for "
             f"{needed} (recovery_minutes: {course.recovery_minutes} per 90 minutes): add '::: cut' blocks "
             "with 'saves:' to the later segments")


def check_fallbacks(course: m.Course, session: m.Session, warn: Warn) -> None:
    """A question put to the room in a discussion says what to do when nobody answers,
    unless the course has a general move for silence."""
    if course.move("silence") is not None:
        return
    for segment in session.segments:
        if segment.kind != "discussion":
            continue
        for block in segment.blocks:
            kind = kinds.kind_of(block)
            if kind is not None and kind.asks_room and not getattr(block, "fallback", ""):
                warn(block.src.path, block.src.line,
                     f"{kind.described()} in the discussion '{segment.title}' does not say what to do when "
                     "nobody answers: add 'fallback:', or a general move for silence in course.yaml "
                     "('moves: silence:')")


def check_kit(kit: m.Kit, warn: Warn) -> None:
    for course in kit.courses:
        for session in course.sessions:
            check_session(course, session, warn)
