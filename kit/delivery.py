"""A delivery: one cohort's run of a course, kept outside the course's content.

A delivery file gives the cohort, the facilitator, the room, the first date,
the weekday, the start time and the weeks to skip. From it come each session's
real date and the clock times of its run of show; the content is not forked.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kit.errors import Problems
from kit.loader import load_yaml_file
from kit.model import wall_clock
from kit import i18n
from kit.schema import LANGUAGE_RE, Choice, List, Str, check_mapping


# Modules are numbered with two digits, so a course has at most 100 sessions; with a week
# for each and one for each skipped week, that is how far a delivery's dates can run.
MAX_SESSIONS = 100

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME_RE = r"([01]?\d|2[0-3]):[0-5]\d"

DELIVERY = {
    "cohort": Str(required=True),
    "facilitator": Str(),
    "room": Str(),
    "first_date": Str(required=True, pattern=r"\d{4}-\d{2}-\d{2}", hint="a date as YYYY-MM-DD"),
    "weekday": Choice(WEEKDAYS),
    "start": Str(required=True, pattern=TIME_RE, hint="a time as HH:MM, e.g. 12:30"),
    "skip": List(Str(pattern=r"\d{4}-\d{2}-\d{2}", hint="a date as YYYY-MM-DD")),
    "course": Str(),
    # the language the kit prints this delivery in, when it is not the course's (kit.i18n)
    "language": Str(pattern=LANGUAGE_RE, hint="a language code such as de or fr-CH"),
}


@dataclass(frozen=True)
class Delivery:
    cohort: str
    facilitator: str
    room: str
    first_date: dt.date
    weekday: str
    start_minutes: int  # minutes after midnight
    skip: tuple[dt.date, ...]
    path: str
    language: str = ""  # '' : the course's

    @property
    def start(self) -> str:
        """The start time as printed in the current language (kit.i18n.using)."""
        return i18n.format_clock(self.start_minutes)

    def dates(self, count: int) -> list[dt.date]:
        """The date of each of `count` sessions: weekly from first_date; a week that holds
        a `skip` date is skipped (the session moves to the next week)."""
        skipped = {s.isocalendar()[:2] for s in self.skip}
        dates: list[dt.date] = []
        day = self.first_date
        while len(dates) < count:
            if day.isocalendar()[:2] not in skipped:
                dates.append(day)
            day += dt.timedelta(days=7)  # load_delivery made sure this stays before the year 10000
        return dates


def format_date(day: dt.date, language: str | None = None) -> str:
    """'Wednesday 14 January 2026', 'Mittwoch, 14. Januar 2026': in `language`, else in the
    current one (kit.i18n.using), independent of the machine's locale."""
    return i18n.format_date(day, language)


def _date(text: str, line: int, what: str, report) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        report(line, f"'{what}' is not a real date: {text}")
        return None


def load_delivery(path: Path, problems: Problems) -> Delivery | None:
    """Load and validate a delivery file; problems go to `problems` with their lines."""
    path = Path(path)
    report = lambda line, msg: problems.error(path, line, msg)  # noqa: E731
    if not path.exists():
        problems.error(path, 1, "delivery file not found")
        return None
    data, _ = load_yaml_file(path, path.parent, problems)  # bounded, regular files only
    if data is None:
        return None
    if not isinstance(data, dict):
        report(1, "a delivery file must be 'key: value' lines: cohort, first_date, start, ...")
        return None
    # YAML reads an unquoted 2026-01-14 as a date and 12:30 as a number of minutes; accept both.
    for key in ("first_date",):
        if isinstance(data.get(key), dt.date):
            data[key] = data[key].isoformat()
    if isinstance(data.get("skip"), list):
        for i, item in enumerate(data["skip"]):
            if isinstance(item, dt.date):
                data["skip"][i] = item.isoformat()
    if isinstance(data.get("start"), int) and not isinstance(data.get("start"), bool):
        data["start"] = wall_clock(data["start"])  # YAML 1.1 reads 12:30 as 750 (minutes)
    lines = getattr(data, "lines", {})
    before = len(problems.errors)
    clean = check_mapping(data, DELIVERY, 1, "", report)
    if len(problems.errors) > before:
        return None
    first = _date(clean["first_date"], lines.get("first_date", 1), "first_date", report)
    skip_lines = list(getattr(data.get("skip"), "lines", [])) + [lines.get("skip", 1)] * len(clean["skip"])
    skips = tuple(d for d in (_date(s, line, "skip", report) for s, line in zip(clean["skip"], skip_lines)) if d)
    if first is None:
        return None
    first_week = tuple(first.isocalendar()[:2])
    weeks = MAX_SESSIONS - 1 + len({w for w in (tuple(s.isocalendar()[:2]) for s in skips) if w >= first_week})
    if first.toordinal() + 7 * weeks > dt.date.max.toordinal():
        report(lines.get("first_date", 1), f"first_date {first.isoformat()} is too late: weekly sessions from "
                                           "then on would run past the year 9999")
        return None
    weekday = clean["weekday"] or WEEKDAYS[first.weekday()]
    if WEEKDAYS[first.weekday()] != weekday:
        report(lines.get("weekday", 1), f"first_date {first.isoformat()} is a "
                                        f"{WEEKDAYS[first.weekday()].capitalize()}, not a {weekday.capitalize()}")
        return None
    if clean["language"] and not i18n.supported(clean["language"]):
        report(lines.get("language", 1), i18n.unsupported_message(clean["language"]))
        return None
    hours, minutes = (int(x) for x in clean["start"].split(":"))  # it matched TIME_RE
    return Delivery(clean["cohort"], clean["facilitator"], clean["room"], first, weekday,
                    hours * 60 + minutes, skips, str(path), clean["language"])
