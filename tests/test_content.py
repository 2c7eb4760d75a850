"""The bundled courses meet every per-session requirement, so an edit cannot quietly break one."""
import re

import pytest

from kit.check import check_kit_dir
from kit.checks import formative_gaps
from kit.loader import load_kit
from kit.paths import bundled_root

LOADED = load_kit(bundled_root())
COURSES = {c.slug: c for c in LOADED.kit.courses}
SESSIONS = [(c.slug, s) for c in LOADED.kit.courses for s in c.sessions]
IDS = [f"{slug}/{s.number:02d}-{s.slug}" for slug, s in SESSIONS]


def test_bundled_kit_loads_and_checks_clean():
    assert [p.format() for p in LOADED.problems.errors] == []
    assert [p.format() for p in check_kit_dir(bundled_root())] == []


def test_both_courses_are_there_with_enough_sessions():
    assert len(COURSES["ml-for-engineering-teams"].sessions) >= 12
    assert len(COURSES["ml-at-scale"].sessions) >= 4
    assert COURSES["ml-at-scale"].follows == "ml-for-engineering-teams"
    for course in COURSES.values():
        assert course.session_minutes == 90
        assert len(course.organisation.products) >= 3


@pytest.mark.parametrize("slug", ["ml-for-engineering-teams", "ml-at-scale"])
def test_introduction_tells_a_new_facilitator_how_to_run_it(slug):
    intro = COURSES[slug].introduction.lower()
    assert len(intro.splitlines()) >= 50
    if slug == "ml-for-engineering-teams":
        for topic in ["advertis", "pre-work", "chat", "pair flip", "i don't know", "prepar"]:
            assert topic in intro, topic


@pytest.mark.parametrize("slug,session", SESSIONS, ids=IDS)
def test_session_requirements(slug, session):
    course = COURSES[slug]
    assert 3 <= len(session.objectives) <= 5
    assert session.minutes == 90 and session.planned_minutes == 90
    assert formative_gaps(session) == []
    assert session.prework, "pre-work"
    for item in session.prework:
        assert item.url.startswith("https://") and item.minutes, item.title
    assert session.materials and session.think_about
    assert 45 <= session.preparation_minutes <= 75

    pairs = session.blocks("pair")
    assert pairs and all(p.role_a and p.role_b and p.minutes and p.debrief for p in pairs)
    assert any(seg.kind == "pair" for seg in session.segments)
    anecdotes = session.blocks("anecdote")
    assert anecdotes and all(a.point and a.source and a.retell and a.story for a in anecdotes)
    examples = session.blocks("example")
    declared = {p.id for p in course.organisation.products}
    assert examples and all(e.product in declared and e.text for e in examples)
    questions = session.blocks("question", "misconception")
    assert len(questions) >= 3 and all(q.answer for q in questions)
    prompts = session.blocks("prompt")
    assert prompts and all(p.answer for p in prompts)
    timing = session.blocks("timing")
    assert any(t.add for t in timing) and not any(t.cut for t in timing)  # cuts are `cut` blocks now
    # Run-ready (issue 13): a recovery plan from the midpoint on, pair flips that add up,
    # a fallback for the first question to the room of each discussion, pacing in long segments.
    from kit.views import midpoint, recoverable

    assert recoverable(session, midpoint(session))[0] >= course.recovery_needed(session)
    assert all(p.setup is not None and p.debrief_minutes is not None for p in pairs)
    for seg in session.segments:
        asked = [b for b in seg.blocks if b.kind in ("check", "ask")]
        if seg.kind == "discussion" and asked:
            assert asked[0].fallback, (seg.title, asked[0].src)
        activities = [b for b in seg.blocks if b.kind not in ("talk", "say", "cut", "timing")]
        if seg.minutes >= 15 and len(activities) > 2:
            assert seg.paces, (seg.title, "no pacing")
    assert course.organisation.fictional and course.move("silence")


def test_every_mlcc_session_points_at_the_crash_course():
    for session in COURSES["ml-for-engineering-teams"].sessions[1:]:
        assert any("developers.google.com/machine-learning" in p.url for p in session.prework), session.title


def test_invented_stories_say_so():
    """An anecdote about the fictional demo company must not pass as a real event."""
    for _, session in SESSIONS:
        for anecdote in session.blocks("anecdote"):
            text = f"{anecdote.story} {anecdote.source}"
            if re.search(r"\bScribewell\b", text):
                assert re.search(r"illustrative|fictional|invented", anecdote.source, re.I), anecdote.title
