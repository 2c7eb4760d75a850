"""Deliveries: real dates and clock times for one cohort, without forking the content."""
import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from kit.cli import main
from kit.delivery import format_date, load_delivery
from kit.errors import Problems

from conftest import tiny_kit, write_kit
from pdftext import all_text
from htmltext import printed_pdfs

DELIVERY = """\
cohort: Spring 2027 cohort
facilitator: Ana Ruiz
room: Atlas
first_date: 2027-01-13
weekday: wednesday
start: "12:30"
skip: [2027-01-20]
"""


def test_dates_are_weekly_and_skip_whole_weeks(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(DELIVERY)
    problems = Problems()
    delivery = load_delivery(path, problems)
    assert problems.items == []
    assert delivery.start == "12:30" and delivery.start_minutes == 750
    assert delivery.dates(3) == [dt.date(2027, 1, 13), dt.date(2027, 1, 27), dt.date(2027, 2, 3)]
    assert format_date(dt.date(2027, 1, 13)) == "Wednesday 13 January 2027"


def test_unquoted_yaml_times_and_dates_are_understood(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("cohort: C\nfirst_date: 2027-01-13\nstart: 09:05\n")
    delivery = load_delivery(path, Problems())
    assert delivery.start == "09:05" and delivery.weekday == "wednesday"


def test_bad_delivery_errors_have_lines(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("cohort: C\nfirst_date: 2027-01-14\nweekday: wednesday\nstart: '25:00'\nteam: x\n")
    problems = Problems()
    assert load_delivery(path, problems) is None
    found = [p.format() for p in problems.items]
    assert any(f.endswith("d.yaml:4: 'start' '25:00' is not valid: a time as HH:MM, e.g. 12:30") for f in found)
    assert any(f.endswith("d.yaml:5: unknown key 'team'; valid keys: cohort, facilitator, room, first_date, "
                          "weekday, start, skip, course, language") for f in found)


def test_wrong_weekday_is_reported(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text("cohort: C\nfirst_date: 2027-01-14\nweekday: wednesday\nstart: '12:30'\n")
    problems = Problems()
    load_delivery(path, problems)
    assert problems.items[0].format().endswith("d.yaml:3: first_date 2027-01-14 is a Thursday, not a Wednesday")


def guide_words(root: Path, **options) -> str:
    """The words of the whole facilitator guide a build of the kit would write (htmltext)."""
    return printed_pdfs(root, **options)["fixture/facilitator-guide.pdf"]


def test_build_with_delivery_prints_dates_and_clock_times(tmp_path):
    # `kit build --delivery`, of a kit whose one session is the smallest: the dates in the PDFs
    root = tiny_kit(tmp_path / "kit")
    (tmp_path / "d.yaml").write_text(DELIVERY)
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out"), "-j", "1",
                                       "--delivery", str(tmp_path / "d.yaml")])
    assert result.exit_code == 0, result.output
    guide = all_text(tmp_path / "out/fixture/facilitator-guide.pdf")
    assert "12:30–12:40 S discussion 10" in guide
    assert "Wednesday 13 January 2027" in guide and "Spring 2027 cohort" in guide
    sheets = all_text(tmp_path / "out/fixture/participant-worksheets.pdf").lower()
    assert "wednesday 13 january 2027" in sheets
    # the fixture session's run of show, in clock times: the words of its guide
    guide = guide_words(write_kit(tmp_path / "fixture"), delivery=tmp_path / "d.yaml")
    assert "12:30–12:40 Recap recap 10" in guide
    assert "12:40–12:55 Pair flip pair 15" in guide
    assert "Wednesday 13 January 2027" in guide and "Spring 2027 cohort" in guide


def test_build_with_bad_delivery_writes_nothing(tmp_path):
    root = write_kit(tmp_path / "kit")
    (tmp_path / "d.yaml").write_text("cohort: C\n")
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out"), "-j", "1",
                                       "--delivery", str(tmp_path / "d.yaml")])
    assert result.exit_code == 1
    assert "missing required key 'first_date'" in result.output
    assert not (tmp_path / "out").exists()


def test_delivery_that_is_not_a_regular_file_is_refused(tmp_path):
    import os
    fifo = tmp_path / "d.yaml"
    os.mkfifo(fifo)
    problems = Problems()
    assert load_delivery(fifo, problems) is None  # returns at once; reading a FIFO would block
    assert "not a regular file" in problems.items[0].message
