"""Debriefs: the page at the end of each guide, `kit debrief`, the feedback card, and what
`kit check --debriefs` and `kit build --debriefs` make of earlier deliveries."""
from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from conftest import write_kit
from kit.cli import main
from pdftext import all_text, norm, pages_text

DELIVERY = """\
cohort: Spring cohort
facilitator: Ana Ruiz
first_date: 2027-01-13
start: "12:30"
"""

# The fixture session (tests/conftest.py MODULE): Recap 10 min at 0:00, Pair flip 15 at
# 0:10 (with the cut 'FAC-CUT skip the anecdote'), Wrap-up 5 at 0:25.
FILLED = """\
course: fixture
session: 1
cohort: {cohort}
segments:
  - segment: Recap
    started: "12:30"
    notes: "slow start"
  - segment: pair flip        # any case
    started: "12:4{recap_end}"
  - segment: Wrap-up
    started: "{wrap}"
ended: "{end}"
cuts_used: [C1]
landed: [FAC-ANECDOTE-TITLE]
feedback:
  cards: 4
  ratings: {{1: 0, 2: 1, 3: 1, 4: 2, 5: 0}}
  worked: [the pair flip]
"""


def debrief_text(cohort: str, recap_end: int, wrap: str, end: str) -> str:
    return FILLED.format(cohort=cohort, recap_end=recap_end, wrap=wrap, end=end)


@pytest.fixture(scope="module")
def built(fixture_build):
    """The fixture kit, built once per test run (shared: read only): (root, its sessions' PDFs)."""
    root, out, _ = fixture_build
    return root, out / "fixture" / "sessions"


def test_the_guide_ends_with_a_debrief_page_whose_rows_are_the_segments(built):
    _, sessions = built
    pages = pages_text(sessions / "01-fixture-guide.pdf")
    page = next(p for p in pages if "debrief: five minutes after the session" in p.casefold())
    rows = re.findall(r"(Recap|Pair flip|Wrap-up|ended \(when the session ended\)) (\d:\d\d) ?(\d*)", page)
    assert rows == [("Recap", "0:00", "10"), ("Pair flip", "0:10", "15"), ("Wrap-up", "0:25", "5"),
                    ("ended (when the session ended)", "0:30", "")]
    # the debrief file's headings, in its order, and what there is to tick
    keys = ["segments", "cuts_used", "landed", "did_not_land", "unanticipated", "change", "feedback",
            "cards", "ratings", "worked", "to_change"]
    flat = norm(page)
    folded = flat.casefold()
    assert [folded.index(k) for k in keys] == sorted(folded.index(k) for k in keys)
    assert "C1 FAC-CUT skip the anecdote" in flat and "FAC-ANECDOTE-TITLE" in flat and "FAC-EXAMPLE-TITLE" in flat
    # the command is the course owner's; a stand-in is told they need not type anything in
    assert "You need not type anything in. (For the course owner: kit debrief 1 --delivery" in flat


def test_the_worksheet_ends_with_the_feedback_card_and_the_answer_key_does_not(built):
    _, sessions = built
    sheet = pages_text(sessions / "01-fixture-worksheet.pdf")
    assert "Feedback on session 1: Fixture Session" in norm(sheet[-1])
    assert "One thing that worked" in sheet[-1] and "One thing to change" in sheet[-1]
    assert re.search(r"1\s+2\s+3\s+4\s+5", sheet[-1])
    assert all("Feedback on session" not in page for page in sheet[:-1])
    guide = all_text(sessions / "01-fixture-guide.pdf")
    assert "Feedback on session" not in guide


def test_kit_debrief_writes_a_file_that_validates_then_checks_it(tmp_path):
    root = write_kit(tmp_path / "kit")
    delivery = tmp_path / "cohort.yaml"
    delivery.write_text(DELIVERY)
    args = ["debrief", "1", "--delivery", str(delivery), "--kit", str(root)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    path = tmp_path / "debriefs" / "spring-cohort" / "01.yaml"
    assert "wrote" in first.output and path.is_file()
    text = path.read_text()
    # pre-filled from the plan and the delivery: the segments with their planned clock times
    assert re.findall(r'segment: "([^"]+)"\s+# planned (\d+:\d\d)', text) == [
        ("Recap", "12:30"), ("Pair flip", "12:40"), ("Wrap-up", "12:55")]
    assert 'date: "2027-01-13"' in text and "#   C1  FAC-CUT skip the anecdote (saves" in text
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    assert "no errors; 0 of 3 segments timed" in again.output
    path.write_text(debrief_text("Spring cohort", 3, "12:58", "13:02"))
    filled = CliRunner().invoke(main, args)
    assert "no errors; 3 of 3 segments timed" in filled.output, filled.output


def test_a_broken_debrief_gives_every_error_at_its_line(tmp_path):
    root = write_kit(tmp_path / "kit")
    delivery = tmp_path / "cohort.yaml"
    delivery.write_text(DELIVERY)
    path = tmp_path / "debriefs" / "spring-cohort" / "01.yaml"
    path.parent.mkdir(parents=True)
    text = (debrief_text("Spring cohort", 3, "12:38", "13:02")   # Wrap-up starts before Pair flip
            .replace("cuts_used: [C1]", "cuts_used: [C7]")
            .replace("landed: [FAC-ANECDOTE-TITLE]", "landed: [No such story]\nmood: fine")
            .replace("  - segment: Wrap-up", "  - segment: Lunch\n  - segment: Wrap-up"))
    path.write_text(text)
    result = CliRunner().invoke(main, ["debrief", "1", "--delivery", str(delivery), "--kit", str(root)])
    assert result.exit_code == 1
    lines = text.splitlines()

    def at(fragment: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if fragment in line)

    where = str(path)
    wrap_line = at('started: "12:38"') - 1
    expected = [
        f"{where}:{at('segment: Lunch')}: session 1 has no segment called 'Lunch'",
        f"{where}:{wrap_line}: this time is earlier than the start of 'Pair flip' (12:43)",
        f"{where}:{at('cuts_used')}: 'cuts_used': session 1 has no cut called 'C7'; the valid ones are: "
        "'C1' 'FAC-CUT skip the anecdote'",
        f"{where}:{at('landed:')}: 'landed': session 1 has no anecdote or example called 'No such story'",
        f"{where}:{at('mood:')}: unknown key 'mood'; valid keys: course, session,",
    ]
    for line in expected:
        assert line in result.output, (line, result.output)


def write_debriefs(folder, overruns: list[tuple[int, str]], ratings: str = "{1: 0, 2: 1, 3: 1, 4: 2, 5: 0}"):
    """One debrief per (minutes the recap took, cohort); the pair flip always takes 15."""
    for n, (recap, cohort) in enumerate(overruns, 1):
        path = folder / f"c{n}" / "01.yaml"
        path.parent.mkdir(parents=True)
        hours, minutes = divmod(12 * 60 + 30 + recap, 60)
        wrap_hours, wrap_minutes = divmod(12 * 60 + 30 + recap + 15, 60)
        text = (FILLED.replace("12:4{recap_end}", f"{hours}:{minutes:02d}")
                .format(cohort=cohort, recap_end=0, wrap=f"{wrap_hours}:{wrap_minutes:02d}", end="13:20")
                .replace("{1: 0, 2: 1, 3: 1, 4: 2, 5: 0}", ratings))
        path.write_text(text)


def test_check_with_debriefs_warns_at_the_segment_that_overran_in_two_deliveries(tmp_path):
    root = write_kit(tmp_path / "kit")
    debriefs = tmp_path / "debriefs"
    write_debriefs(debriefs, [(15, "one"), (14, "two"), (11, "three")],
                   ratings="{1: 2, 2: 1, 3: 1, 4: 0, 5: 0}")
    result = CliRunner().invoke(main, ["check", str(root), "--debriefs", str(debriefs)])
    assert result.exit_code == 0, result.output
    module = (root / "content/fixture/01-fixture.md").read_text().splitlines()
    recap_line = module.index("## Recap {minutes=10 kind=recap}") + 1
    assert (f"content/fixture/01-fixture.md:{recap_line}: warning: 'Recap' ran more than 3 minutes over its 10 "
            "in 2 of 3 deliveries (took 14, 15)") in result.output
    assert "'Pair flip' ran" not in result.output  # on plan every time
    assert ("content/fixture/01-fixture.md:1: warning: session 1 is rated 1.8 on average by 12 feedback cards "
            "in 3 deliveries, below 3.5") in result.output
    # without --debriefs: no such warning
    plain = CliRunner().invoke(main, ["check", str(root)])
    assert "ran more than" not in plain.output


def test_build_with_debriefs_prints_what_each_segment_took(tmp_path, fixture_build):
    root = write_kit(tmp_path / "kit")
    debriefs = tmp_path / "debriefs"
    write_debriefs(debriefs, [(15, "one"), (14, "two"), (13, "three"), (10, "four")])
    out = tmp_path / "out"
    # Into a copy of the fixture's build (its cache too), as a second build into the same
    # folder: the documents the debriefs change are rendered, the others taken from the cache.
    shutil.copytree(fixture_build[1], out)
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-j", "1", "--debriefs", str(debriefs)])
    assert result.exit_code == 0, result.output
    guide = norm(all_text(out / "fixture/sessions/01-fixture-guide.pdf"))
    assert "planned 10 · took 14 in 3 of 4 cohorts" in guide
    assert "planned 15 · took 15 in 4 of 4 cohorts" in guide
    assert "ran more than 3 minutes over its 10 in 2 of 4 deliveries (took 14, 15)" in result.output  # check's warnings


def test_a_broken_debrief_stops_the_build_before_anything_is_written(tmp_path):
    root = write_kit(tmp_path / "kit")
    debriefs = tmp_path / "debriefs"
    write_debriefs(debriefs, [(15, "one")])
    (debriefs / "c1" / "01.yaml").write_text("course: fixture\nsession: 9\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-j", "1", "--debriefs", str(debriefs)])
    assert result.exit_code == 1
    assert f"{debriefs / 'c1' / '01.yaml'}:2: course 'fixture' has no session 9" in result.output
    assert not out.exists()
