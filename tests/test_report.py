"""`kit report`: the debriefs of a fixture course, read back from the PDF and the SVG charts.

One report is rendered for the module (four debriefs of session 1, one of session 2); the
other tests need no PDF. The figures the tests expect are worked out by hand from the
debriefs below, not by the code under test.
"""
import re
import xml.etree.ElementTree as ET

import pikepdf
import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.errors import KitError

from conftest import MODULE, write_kit
from pdftext import all_text, pages_text

SVG = "{http://www.w3.org/2000/svg}"

# Session 1 (MODULE): Recap & <review> 10 min, Pair flip 15, Wrap-up 5; cut C1 'FAC-CUT skip
# the anecdote'; stories FAC-ANECDOTE-TITLE and FAC-EXAMPLE-TITLE.
SESSION_ONE = MODULE.replace("## Recap {", "## Recap & <review> {")


def debrief(session: int, cohort: str, date: str, segments: str, rest: str = "") -> str:
    if session == 1:
        segments = segments.replace("segment: Recap\n", 'segment: "Recap & <review>"\n')
    return (f"course: fixture\nsession: {session}\ncohort: {cohort}\ndate: {date}\nfacilitator: Ana Ruiz\n"
            f"segments:\n{segments}{rest}")


DEBRIEFS = {
    # Recap 12, Pair flip 20, Wrap-up 5 (from clock times)
    "cohort-a/01.yaml": debrief(1, "Cohort A", "2027-01-13", """\
  - segment: Recap
    started: "12:30"
  - segment: Pair flip
    started: "12:42"
    notes: "NOTE-A pairs swapped <late> & slowly"
  - segment: Wrap-up
    started: "13:02"
ended: "13:07"
""", """\
cuts_used: [C1]
unanticipated: ["QUESTION-A why not <all> the data?"]
landed: [FAC-ANECDOTE-TITLE]
change: "CHANGE-A give the pair flip 20 minutes"
feedback:
  cards: 5
  ratings: {4: 3, 5: 2}
  worked: ["WORKED-A the drawing"]
  to_change: ["TOCHANGE-A slower please"]
"""),
    # Recap 10, Pair flip 19, Wrap-up 6
    "cohort-b/01.yaml": debrief(1, "Cohort B", "2027-02-10", """\
  - segment: Recap
    minutes: 10
  - segment: Pair flip
    minutes: 19
  - segment: Wrap-up
    minutes: 6
""", """\
cuts_used: [FAC-CUT skip the anecdote]
did_not_land: [FAC-EXAMPLE-TITLE]
feedback:
  cards: 3
  ratings: {3: 1, 4: 2}
"""),
    # Recap 11, Pair flip 16, Wrap-up 4: nothing over by more than 3 minutes
    "cohort-c/01.yaml": debrief(1, "Cohort C", "2027-03-10", """\
  - segment: Recap
    minutes: 11
  - segment: Pair flip
    minutes: 16
    notes: "NOTE-C fine this time"
  - segment: Wrap-up
    minutes: 4
""", """\
landed: [FAC-ANECDOTE-TITLE]
feedback:
  cards: 3
  ratings: {2: 1, 5: 1}
"""),
    # Recap 11, Pair flip 22, Wrap-up not timed; no cards
    "cohort-d/01.yaml": debrief(1, "Cohort D", "2027-04-07", """\
  - segment: Recap
    minutes: 11
  - segment: Pair flip
    minutes: 22
""", "cuts_used: [C1]\n"),
    # Session 2: as planned
    "cohort-a/02.yaml": debrief(2, "Cohort A", "2027-01-20", """\
  - segment: Recap
    minutes: 10
  - segment: Pair flip
    minutes: 15
  - segment: Wrap-up
    minutes: 5
"""),
}


def write_debriefs(folder, files: dict) -> None:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def fixture_kit(root):
    return write_kit(root, {"content/fixture/01-fixture.md": SESSION_ONE,
                            "content/fixture/02-second.md": MODULE.replace("title: Fixture Session",
                                                                           "title: Second Session")})


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The kit, its debriefs and the report rendered once through the CLI: (root, folder, out, output)."""
    root = fixture_kit(tmp_path_factory.mktemp("kit"))
    folder = tmp_path_factory.mktemp("debriefs")
    write_debriefs(folder, DEBRIEFS)
    out = tmp_path_factory.mktemp("out") / "report.pdf"
    result = CliRunner().invoke(main, ["report", str(root), "--debriefs", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return root, folder, out, result.output


@pytest.fixture(scope="module")
def text(made) -> str:
    return all_text(made[2])


def test_the_report_and_one_chart_per_session_are_written(made):
    _, _, out, output = made
    assert out.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report-session-01.svg", "report-session-02.svg",
                                                            "report.pdf"]
    assert "5 debriefs of 2 sessions" in output and "report-session-01.svg" in output


def test_the_segment_figures_match_the_debriefs(text):
    # Pair flip: 20, 19, 16, 22 -> median 19.5, 16-22, 4 of 4, over by more than 3 in 3
    assert re.search(r"Pair flip 15 19\.5 16–22 4 of 4 3", text), text
    # Recap: 12, 10, 11, 11 -> median 11, 10-12, none over by more than 3
    assert re.search(r"Recap & <review> 10 11 10–12 4 of 4 –", text)
    # Wrap-up: 5, 6, 4 (not timed in one delivery)
    assert re.search(r"Wrap-up 5 5 4–6 3 of 4 –", text)
    # Session 2: one delivery, as planned
    assert re.search(r"Pair flip 15 15 15 1 of 1 –", text)


def test_the_overruns_are_named_with_how_much(made):
    first = pages_text(made[2])[0]
    assert "SEGMENTS THAT OVERRAN IN TWO OR MORE DELIVERIES" in first  # a heading, in capitals
    assert re.search(r"SESSION 1 · SEGMENT 2 Pair flip planned 15 min, took 19, 20 and 22 in 3 of 4 deliveries: "
                     r"4 to 7 min over its plan", first), first
    assert "Recap & <review>" not in first.split("SESSIONS")[0]


def test_cuts_ratings_and_notes(text):
    assert re.search(r"C1 FAC-CUT skip the anecdote saves 5 min 3 of 4", text)  # by number twice, by title once
    # ratings: 2:1, 3:1, 4:5, 5:3 -> 10 rated of 11 cards, mean 40 / 10 = 4.0
    assert "4.0 mean rating, from 10 rated cards (11 cards) in 3 deliveries" in text
    assert re.search(r"5 3 .*4 5 .*3 1 .*2 1 .*1 0", text.split("mean rating")[1])
    # notes grouped under their segment, with the delivery they come from
    notes = text.split("NOTES BY SEGMENT")[1]
    assert re.search(r"2 Pair flip NOTE-A pairs swapped <late> & slowly — Cohort A · 13 Jan 2027 "
                     r"NOTE-C fine this time — Cohort C · 10 Mar 2027", notes)
    assert "QUESTION-A why not <all> the data? — Cohort A" in text
    assert re.search(r"FAC-ANECDOTE-TITLE anecdote 2 – FAC-EXAMPLE-TITLE example – 1", text)
    assert "CHANGE-A give the pair flip 20 minutes" in text
    assert "WORKED-A the drawing" in text and "TOCHANGE-A slower please" in text


def test_the_summary_table(made):
    first = pages_text(made[2])[0]
    # session 1: 4 deliveries, 1 overran, 3 cuts used, 11 cards, mean 4.0; session 2: 1, none
    assert re.search(r"1 Fixture Session 4 1 3 11 4\.0", first), first
    assert re.search(r"2 Second Session 1 – – – –", first)


def test_the_chart_is_a_figure_with_its_alt_text(made):
    with pikepdf.open(made[2]) as pdf:
        figures = [o for o in pdf.objects
                   if isinstance(o, pikepdf.Dictionary) and o.get("/S") == pikepdf.Name.Figure]
        alts = [str(f.get("/Alt", "")) for f in figures]
    assert len(alts) == 2
    one = next(a for a in alts if a.startswith("Session 1:"))
    assert "from 4 deliveries" in one
    assert "2 of 3 segments ran over in most deliveries" in one
    assert "'Pair flip' planned 15, median 19.5 (range 16 to 22)" in one
    assert "'Recap & <review>' planned 10, median 11 (range 10 to 12)" in one
    assert "Over by more than 3 minutes in two or more deliveries: 'Pair flip'" in one
    assert "1 segment was not timed" not in one  # Wrap-up was timed in three
    two = next(a for a in alts if a.startswith("Session 2:"))
    assert "No segment ran over in most deliveries" in two


def test_the_svg_charts_are_well_formed_with_one_row_per_segment(made):
    out = made[2]
    for name, segments in (("report-session-01.svg", 3), ("report-session-02.svg", 3)):
        tree = ET.parse(out.parent / name)
        rows = tree.getroot().findall(f".//{SVG}g[@class='row']")
        assert len(rows) == segments
        assert [r.get("data-segment") for r in rows] == ["1", "2", "3"]
    svg = (out.parent / "report-session-01.svg").read_text(encoding="utf-8")
    assert "Recap &amp; &lt;review&gt;" in svg and "<review>" not in svg
    labels = [t.text for t in ET.parse(out.parent / "report-session-01.svg").getroot().iter(f"{SVG}text")]
    assert "minutes" in labels and "planned minutes" in labels and "median of the deliveries" in labels


def test_a_broken_debrief_is_a_path_line_error_and_nothing_is_written(tmp_path):
    root = fixture_kit(tmp_path / "kit")
    folder = tmp_path / "debriefs"
    write_debriefs(folder, {"cohort-a/01.yaml": DEBRIEFS["cohort-a/01.yaml"].replace("cuts_used: [C1]",
                                                                                     "cuts_used: [C7]")})
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["report", str(root), "--debriefs", str(folder), "-o", str(out)])
    assert result.exit_code == 1
    assert re.search(r"cohort-a/01\.yaml:15: 'cuts_used': session 1 has no cut called 'C7'", result.output), \
        result.output
    assert not out.exists() and not list(tmp_path.glob("*.svg"))


def test_no_debriefs_of_the_course_is_a_clear_error(tmp_path):
    root = fixture_kit(tmp_path / "kit")
    (tmp_path / "debriefs").mkdir()
    result = CliRunner().invoke(main, ["report", str(root), "--debriefs", str(tmp_path / "debriefs"),
                                       "-o", str(tmp_path / "report.pdf")])
    assert result.exit_code == 1
    assert "no debrief files (*.yaml) in it" in result.output and "kit debrief" in result.output
    result = CliRunner().invoke(main, ["report", str(root), "--debriefs", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "no debriefs folder" in result.output


def test_two_courses_need_course_only_when_both_have_debriefs(tmp_path):
    from kit.report import read

    root = fixture_kit(tmp_path / "kit")
    write_kit(root, course="other")
    folder = tmp_path / "debriefs"
    write_debriefs(folder, {"a/01.yaml": DEBRIEFS["cohort-b/01.yaml"]})
    course, found = read(root, folder, None)
    assert course.slug == "fixture" and len(found) == 1
    other = DEBRIEFS["cohort-a/02.yaml"].replace("course: fixture", "course: other").replace("session: 2", "session: 1")
    write_debriefs(folder, {"b/01.yaml": other})
    with pytest.raises(KitError, match="debriefs of 2 courses .*say which with --course"):
        read(root, folder, None)
    course, found = read(root, folder, "other")
    assert course.slug == "other"


def test_the_chart_escapes_author_strings_and_drops_what_xml_cannot_hold():
    from kit.report import Row, dot_plot_svg

    rows = [Row(1, 'Odd "title" <b>&amp;\x01\x0b', 10, (12, 15), 2, (15,), False, ()),
            Row(2, "Not timed " + "very long words " * 8, 5, (), 2, (), False, ())]
    svg = dot_plot_svg(rows, title="Session 9: <x> & 'y'\x02")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Session 9: <x> & 'y'"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert 'Odd "title" <b>&amp;' in texts
    assert "not timed" in texts
    assert any(t and t.endswith("…") for t in texts)  # a title too long for two lines is cut
