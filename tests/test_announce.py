"""`kit announce`: the weekly pre-work announcement, without facilitator material."""
import dataclasses

import pytest
from click.testing import CliRunner

from kit.announce import announce
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit
from kit.paths import bundled_root

from conftest import FACILITATOR_ONLY, module, write_kit

DELIVERY = """\
cohort: Spring 2027 cohort
facilitator: Ana Ruiz
room: Atlas, 3rd floor
first_date: 2027-01-13
start: "12:30"
skip: [2027-01-20]
"""

SECOND = """\
---
title: Second [draft]
minutes: 45
prework:
  - title: A reading
    url: https://example.org/read
    minutes: 20
    kind: reading
    estimate: true
  - title: An exercise
    url: https://example.org/do
    kind: exercise
think_about:
  - First question?
  - Second question?
---
## Only {minutes=45 kind=discussion}

FAC-SECRET talking point.
"""


def test_fixture_announcement_has_the_prework_and_no_facilitator_material(tmp_path):
    root = write_kit(tmp_path / "kit")
    text = announce(root, "1")
    assert text.startswith("**Fixture Course, session 1: Fixture Session**\n")
    assert "- Video: [PART-PREWORK-VIDEO](https://example.org/video) (12 min)" in text
    assert "**Total pre-work:** 12 minutes." in text
    assert "1. What is a fixture?" in text
    assert "When:" not in text  # no delivery, no date
    for marker in FACILITATOR_ONLY:
        assert marker not in text


def test_delivery_gives_the_date_time_and_room_of_that_session(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/02-second.md": SECOND,
                                        "delivery.yaml": DELIVERY})
    text = announce(root, "second", delivery=root / "delivery.yaml")
    # Week 2 (20 January) is skipped, so session 2 falls on 27 January; it lasts 45 minutes.
    assert "- **When:** Wednesday 27 January 2027, 12:30–13:15" in text
    assert "- **Where:** Atlas, 3rd floor" in text
    assert "session 2: Second \\[draft\\]**" in text  # brackets cannot turn into a link
    assert "- Reading: [A reading](https://example.org/read) (20 min, estimated)" in text
    assert "- Exercise: [An exercise](https://example.org/do) (time not given)" in text
    assert "**Total pre-work:** at least 20 minutes" in text
    assert "1. First question?\n2. Second question?" in text
    assert "FAC-SECRET" not in text
    first = announce(root, "1", delivery=root / "delivery.yaml")
    assert "Wednesday 13 January 2027, 12:30–13:00" in first


def test_errors_elsewhere_do_not_stop_it_but_its_own_do(tmp_path):
    broken = module("title: T\nminutes: 10", "## A {minutes=12 kind=discussion}\n\nx\n")
    root = write_kit(tmp_path / "kit", {"content/fixture/02-broken.md": broken})
    assert "Fixture Session" in announce(root, "1")
    with pytest.raises(KitError, match="add up to 12 minutes"):
        announce(root, "2")
    (root / "bad.yaml").write_text("cohort: C\nfirst_date: '2027-02-30'\nstart: '9:00'\n")
    with pytest.raises(KitError, match="not a real date"):
        announce(root, "1", delivery=root / "bad.yaml")


def test_a_bundled_session(tmp_path):
    root = bundled_root()
    course = load_kit(root, "ml-for-engineering-teams").kit.course("ml-for-engineering-teams")
    session = course.session(3)
    text = announce(root, "3", course="ml-for-engineering-teams")
    assert f"session 3: {session.title}" in text
    for item in session.prework:
        assert f"]({item.url})" in text and item.title.split(":")[0] in text
    for question in session.think_about:
        assert " ".join(question.split()) in text
    assert f"about {session.prework_minutes} minutes" in text
    # Nothing from the run of show: no talking points, anecdotes, answers or examples.
    for block in session.blocks():
        for value in dataclasses.asdict(block).values():
            if isinstance(value, str) and len(value) > 20:
                assert value not in text


def test_cli(tmp_path):
    root = write_kit(tmp_path / "kit", {"delivery.yaml": DELIVERY})
    result = CliRunner().invoke(main, ["announce", "01", "--kit", str(root),
                                       "--delivery", str(root / "delivery.yaml")])
    assert result.exit_code == 0, result.output
    assert "Wednesday 13 January 2027" in result.output
    missing = CliRunner().invoke(main, ["announce", "9", "--kit", str(root)])
    assert missing.exit_code == 1 and "no session '9'" in missing.output
    bundled = CliRunner().invoke(main, ["announce", "2", "--course", "ml-at-scale"])
    assert bundled.exit_code == 0 and "Building robust inference" in bundled.output
