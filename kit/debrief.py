"""Debriefs: what happened when a session was delivered, kept so the next delivery is better.

A debrief file (YAML, one per delivered session, beside the delivery file in
`debriefs/<cohort>/NN.yaml`) records when each segment actually started, which
cuts were used, the questions nobody anticipated, which anecdotes and examples
landed, what to change, and the tally of the participants' feedback cards. Its
headings follow the debrief page printed at the end of the session's guide, in
the same order, so it can be typed in within minutes.

`prefill` writes the file to complete; `load_debrief` validates one against the
course (unknown keys, segments, cuts and stories are errors with their line);
`load_debriefs` reads a folder of them; `segment_stats` and `calibration`
compare what was planned with what happened.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path

from kit import model as m
from kit.errors import Problems
from kit.schema import Int, List, Map, Str, check_mapping
from kit.yamlload import LineDict

TIME_RE = r"([01]?\d|2[0-3]):[0-5]\d"
TIME_HINT = "a clock time as HH:MM, e.g. 12:42"
RATINGS = ("1", "2", "3", "4", "5")
MAX_DEBRIEFS = 5_000  # files read from one folder; more is not a course's history

SEGMENT = {
    "segment": Str(required=True),
    "started": Str(pattern=TIME_RE, hint=TIME_HINT),
    "minutes": Int(low=0, high=24 * 60),
    "notes": Str(),
}
FEEDBACK = {
    "cards": Int(low=0, default=0),
    "ratings": Map({r: Int(low=0, high=100_000, default=0) for r in RATINGS}),
    "worked": List(Str()),
    "to_change": List(Str()),
}
DEBRIEF = {
    "course": Str(required=True),
    "session": Int(required=True, low=0, high=99),
    "cohort": Str(),
    "date": Str(pattern=r"\d{4}-\d{2}-\d{2}", hint="a date as YYYY-MM-DD"),
    "facilitator": Str(),
    "segments": List(Map(SEGMENT)),
    "ended": Str(pattern=TIME_RE, hint=TIME_HINT),
    "cuts_used": List(Str()),
    "unanticipated": List(Str()),
    "landed": List(Str()),
    "did_not_land": List(Str()),
    "change": Str(),
    "feedback": Map(FEEDBACK),
}


@dataclass(frozen=True)
class SegmentRun:
    """One segment as delivered."""
    index: int               # the segment's index in its session
    title: str               # as the module spells it
    started: int | None      # minutes after midnight, as written; None: not noted
    minutes: int | None      # how long it actually took; None: not known
    notes: str
    line: int


@dataclass(frozen=True)
class Feedback:
    cards: int
    ratings: tuple[int, ...]  # how many cards gave 1, 2, 3, 4 and 5
    worked: tuple[str, ...]
    to_change: tuple[str, ...]

    @property
    def rated(self) -> int:
        return sum(self.ratings)

    @property
    def mean(self) -> float | None:
        """The mean rating, or None when no card gave one."""
        return sum(n * (i + 1) for i, n in enumerate(self.ratings)) / self.rated if self.rated else None


@dataclass(frozen=True)
class Debrief:
    path: str
    course: str
    session: int
    cohort: str
    date: str
    facilitator: str
    segments: tuple[SegmentRun, ...]
    cuts_used: tuple[str, ...]       # the cuts' titles
    unanticipated: tuple[str, ...]
    landed: tuple[str, ...]          # titles of anecdotes and examples
    did_not_land: tuple[str, ...]
    change: str
    feedback: Feedback

    def run_of(self, index: int) -> SegmentRun | None:
        return next((run for run in self.segments if run.index == index), None)


def _minutes_of_day(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _stories(session: m.Session) -> list[str]:
    """The titles a debrief may say landed or did not: the session's anecdotes and examples."""
    return [b.title for b in session.blocks("anecdote", "example") if b.title]


def _normalised(data: dict) -> None:
    """YAML 1.1 reads an unquoted 12:42 as 762 (minutes) and ratings' keys as numbers;
    accept both as the text they were meant to be."""
    def as_time(value):
        return m.wall_clock(value) if isinstance(value, int) and not isinstance(value, bool) else value

    if "ended" in data:
        data["ended"] = as_time(data["ended"])
    for seg in data.get("segments") or ():
        if isinstance(seg, dict) and "started" in seg:
            seg["started"] = as_time(seg["started"])
    if isinstance(data.get("date"), dt.date):
        data["date"] = data["date"].isoformat()
    feedback = data.get("feedback")
    if isinstance(feedback, dict) and isinstance(feedback.get("ratings"), LineDict):
        ratings = feedback["ratings"]
        fixed = LineDict({str(k): v for k, v in ratings.items()})
        fixed.lines = {str(k): v for k, v in ratings.lines.items()}
        feedback["ratings"] = fixed


def load_debrief(path: Path, root: Path, kit: m.Kit, problems: Problems) -> Debrief | None:
    """Load and check one debrief file against the kit's course; None when it has errors."""
    from kit.loader import load_yaml_file

    before = len(problems.errors)
    report = lambda line, msg: problems.error(path, line, msg)  # noqa: E731
    data, _ = load_yaml_file(path, root, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        report(1, "a debrief file must be 'key: value' lines: course, session, segments, ...")
        return None
    _normalised(data)
    lines = getattr(data, "lines", {})
    clean = check_mapping(data, DEBRIEF, 1, "", report)  # the rest is checked as far as it can be
    if not clean["course"] or clean["session"] is None:
        return None
    course = kit.course(clean["course"])
    if course is None:
        report(lines.get("course", 1), f"no course '{clean['course']}' in the kit; the courses are: "
                                       + ", ".join(c.slug for c in kit.courses))
        return None
    session = course.session(clean["session"])
    if session is None:
        report(lines.get("session", 1), f"course '{course.slug}' has no session {clean['session']}; its sessions "
                                        f"are 1 to {len(course.sessions)}")
        return None
    runs = _segment_runs(data.get("segments") or [], clean["segments"], clean["ended"],
                         lines.get("ended", 1), session, report)
    cuts = _named(data, "cuts_used", clean["cuts_used"], cut_names(session), "cut", session, report)
    stories = {title: title for title in _stories(session)}
    landed = _named(data, "landed", clean["landed"], stories, "anecdote or example", session, report)
    missed = _named(data, "did_not_land", clean["did_not_land"], stories, "anecdote or example", session, report)
    fb = clean["feedback"]
    ratings = tuple(fb["ratings"][r] for r in RATINGS)
    if fb["cards"] and sum(ratings) > fb["cards"]:
        fb_lines = getattr(data.get("feedback"), "lines", {})
        report(fb_lines.get("ratings", lines.get("feedback", 1)),
               f"the ratings add up to {sum(ratings)} cards, more than the {fb['cards']} in 'cards'")
    if len(problems.errors) > before:
        return None
    return Debrief(str(path), course.slug, session.number, clean["cohort"], clean["date"], clean["facilitator"],
                   runs, cuts, clean["unanticipated"], landed, missed, clean["change"],
                   Feedback(max(fb["cards"], sum(ratings)), ratings, fb["worked"], fb["to_change"]))


def cut_names(session: m.Session) -> dict[str, str]:
    """What a debrief may call a cut (its number in the recovery plan, 'C2', or its title)."""
    from kit.views import recovery_plan

    names = {}
    for cut in recovery_plan(session):
        names[f"C{cut.number}"] = names[cut.title] = cut.title
    return names


def _named(data: dict, key: str, values: tuple[str, ...], known: dict[str, str], what: str,
           session: m.Session, report) -> tuple[str, ...]:
    """Each value resolved to what it names in the session; unknown ones reported."""
    item_lines = list(getattr(data.get(key), "lines", []))
    found = []
    titles = list(known)
    for i, value in enumerate(values):
        line = item_lines[i] if i < len(item_lines) else getattr(data, "lines", {}).get(key, 1)
        hit = m.matching_titles(titles, value)
        if hit:
            found.append(known[titles[hit[0]]])
        else:
            by_target: dict[str, list[str]] = {}
            for name, target in known.items():
                by_target.setdefault(target, []).append(name)
            valid = "; ".join(" ".join(f"'{n}'" for n in names) for names in by_target.values()) or "none"
            report(line, f"'{key}': session {session.number} has no {what} called '{value}'; "
                         f"the valid ones are: {valid}")
    return tuple(found)


def _segment_runs(raw: list, items: tuple[dict, ...], ended: str, ended_line: int,
                  session: m.Session, report) -> tuple[SegmentRun, ...]:
    titles = [seg.title for seg in session.segments]
    raw_lines = list(getattr(raw, "lines", []))
    runs: list[SegmentRun] = []
    last_index = -1
    for i, item in enumerate(items):
        line = raw_lines[i] if i < len(raw_lines) else 1
        hit = m.matching_titles(titles, item["segment"])
        if not hit:
            report(line, f"session {session.number} has no segment called '{item['segment']}'; "
                         "its segments are: " + "; ".join(f"'{t}'" for t in titles))
            continue
        index = hit[0]
        if index <= last_index:
            report(line, f"'{titles[index]}' is out of order or twice: list the segments in the "
                         "order of the session")
            continue
        last_index = index
        if item["started"] and item["minutes"] is not None:
            report(line, f"'{titles[index]}': give 'started' or 'minutes', not both")
            continue
        started = _minutes_of_day(item["started"]) if item["started"] else None
        runs.append(SegmentRun(index, titles[index], started, item["minutes"], item["notes"], line))
    # How long each segment took: as written, else from its start to the next one's (or the end).
    end = _minutes_of_day(ended) if ended else None
    timed: list[SegmentRun] = []
    for i, run in enumerate(runs):
        minutes = run.minutes
        if minutes is None and run.started is not None:
            following = runs[i + 1].started if i + 1 < len(runs) else end
            if following is not None:
                if following < run.started:
                    where = runs[i + 1].line if i + 1 < len(runs) else ended_line
                    report(where, f"this time is earlier than the start of '{run.title}' "
                                  f"({m.wall_clock(run.started)})")
                else:
                    minutes = following - run.started
        timed.append(SegmentRun(run.index, run.title, run.started, minutes, run.notes, run.line))
    return tuple(timed)


def debrief_path(delivery_path: Path, cohort: str, session: m.Session) -> Path:
    """Where a delivery's debrief of `session` lives: debriefs/<cohort>/NN.yaml beside it."""
    from kit.scaffold import slugify

    return Path(delivery_path).parent / "debriefs" / (slugify(cohort) or "cohort") / f"{session.number:02d}.yaml"


def prefill(course: m.Course, session: m.Session, start: int | None, cohort: str = "",
            date: str = "", facilitator: str = "") -> str:
    """The debrief file to complete after the session, with the planned times as comments.

    `start` is the session's planned start (minutes after midnight), else times are offsets."""
    from kit.scaffold import yaml_text
    from kit.views import recovery_plan

    def planned(minutes: int) -> str:
        return m.wall_clock(start + minutes) if start is not None else m.clock(minutes)

    out = [f"# Debrief of {course.title}, session {session.number}: {session.title}.",
           "# Fill it in after the session, from the debrief page at the end of its guide (same",
           "# headings, same order). Times are clock times (HH:MM); a segment you did not time",
           "# can be left out or given its 'minutes:' instead.",
           f"course: {course.slug}", f"session: {session.number}",
           f"cohort: {yaml_text(cohort)}", f"date: {yaml_text(date)}", f"facilitator: {yaml_text(facilitator)}",
           "segments:"]
    for seg in session.segments:
        out += [f"  - segment: {yaml_text(seg.title)}   # planned {planned(seg.start)}, {seg.minutes} min",
                '    started: ""', '    notes: ""']
    out.append(f'ended: ""   # planned {planned(session.planned_minutes)}')
    cuts = recovery_plan(session)
    out.append("# The cuts you used, by their numbers in the recovery plan, e.g. [C2, C4]:"
               if cuts else "# This session's recovery plan has no cuts.")
    out += [f"#   C{c.number}  {c.title} (saves {c.saves} min)" for c in cuts]
    out += ["cuts_used: []", "unanticipated: []   # questions nobody anticipated, one per item"]
    stories = _stories(session)
    out.append("# The anecdotes and examples that landed, and those that did not, by their titles:"
               if stories else "# This session has no anecdotes or examples.")
    out += [f"#   {title}" for title in stories]
    out += ["landed: []", "did_not_land: []",
            'change: ""   # what to change before the next delivery',
            "feedback:   # the tally of the participants' feedback cards",
            "  cards: 0", "  ratings: {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}", "  worked: []", "  to_change: []"]
    return "\n".join(out) + "\n"


def load_debriefs(folder: Path, kit: m.Kit, problems: Problems) -> list[Debrief]:
    """Every debrief file (`*.yaml`) under `folder`, checked; links are not followed."""
    from kit.safefs import inside

    folder = Path(folder)
    if not folder.is_dir():
        problems.error(folder, 1, "debriefs folder not found")
        return []
    found: list[Debrief] = []
    paths = sorted(p for p in folder.rglob("*.yaml") if not p.is_symlink())
    if len(paths) > MAX_DEBRIEFS:
        problems.error(folder, 1, f"more than {MAX_DEBRIEFS:,} debrief files; only the first are read")
        paths = paths[:MAX_DEBRIEFS]
    for path in paths:
        if not inside(path, folder):
            continue
        debrief = load_debrief(path, folder, kit, problems)
        if debrief is not None:
            found.append(debrief)
    return found


def ran_over_in_most(planned: int, actual: tuple[int, ...]) -> bool:
    """Whether a segment took longer than `planned` in more than half of the deliveries that
    timed it (`actual`, one figure per delivery)."""
    return sum(1 for a in actual if a > planned) * 2 > len(actual)


@dataclass(frozen=True)
class SegmentStats:
    """What one segment took across deliveries."""
    index: int
    title: str
    planned: int
    actual: tuple[int, ...]   # minutes, one per delivery that timed it
    src: m.Source

    @property
    def median(self) -> float | None:
        return statistics.median(self.actual) if self.actual else None

    def overruns(self, margin: int) -> tuple[int, ...]:
        """The timed deliveries in which it took more than `margin` minutes over its plan."""
        return tuple(a for a in self.actual if a - self.planned > margin)

    def took(self) -> str:
        """'planned 15 · took 19 in 3 of 4 cohorts' (the median of those that ran over, or
        of all when it did not run over in most)."""
        if not self.actual:
            return ""
        over = tuple(a for a in self.actual if a > self.planned)
        shown = over if ran_over_in_most(self.planned, self.actual) else self.actual
        typical = round(statistics.median(shown))
        count = len(shown)
        from kit.i18n import ngettext

        return ngettext("planned %(planned)s · took %(took)s in %(count)s of %(num)s cohort",
                        "planned %(planned)s · took %(took)s in %(count)s of %(num)s cohorts", len(self.actual)) % {
            "planned": self.planned, "took": typical, "count": count, "num": len(self.actual)}


def segment_stats(session: m.Session, debriefs: list[Debrief]) -> tuple[SegmentStats, ...]:
    mine = [d for d in debriefs if d.session == session.number]
    stats = []
    for i, seg in enumerate(session.segments):
        actual = tuple(run.minutes for d in mine if (run := d.run_of(i)) and run.minutes is not None)
        stats.append(SegmentStats(i, seg.title, seg.minutes, actual, seg.src))
    return tuple(stats)


def course_debriefs(course: m.Course, debriefs: list[Debrief]) -> list[Debrief]:
    return [d for d in debriefs if d.course == course.slug]


OVERRUN_MARGIN = 3   # minutes over its plan a segment may take before it counts as an overrun
LOW_RATING = 3.5     # a session's mean feedback rating below this is a warning


def calibration(course: m.Course, debriefs: list[Debrief], problems: Problems, root: Path = Path("."),
                margin: int = OVERRUN_MARGIN, min_rating: float = LOW_RATING) -> None:
    """Warnings from real deliveries: a segment that overran by more than `margin` minutes
    in at least two of them (at the segment's line), and a session whose cards rate it
    below `min_rating` on average (at the session's first line)."""
    mine = course_debriefs(course, debriefs)
    for session in course.sessions:
        for stats in segment_stats(session, mine):
            over = stats.overruns(margin)
            if len(over) >= 2:
                took = ", ".join(str(a) for a in sorted(over))
                problems.warning(root / stats.src.path, stats.src.line,
                                 f"'{stats.title}' ran more than {margin} minutes over its {stats.planned} in "
                                 f"{len(over)} of {len(stats.actual)} deliveries (took {took}): give it more "
                                 "time or plan a cut")
        cards = [d.feedback for d in mine if d.session == session.number and d.feedback.rated]
        rated = sum(f.rated for f in cards)
        if rated:
            mean = sum(f.mean * f.rated for f in cards if f.mean is not None) / rated
            if mean < min_rating:
                problems.warning(root / session.src.path, session.src.line,
                                 f"session {session.number} is rated {mean:.1f} on average by {rated} feedback "
                                 f"cards in {len(cards)} deliveries, below {min_rating:g}: read their "
                                 "'to change' notes (kit report)")


@dataclass(frozen=True)
class DebriefResult:
    path: Path
    written: bool                   # True: a new file to fill in; False: an existing one checked
    timed: int                      # segments with their actual minutes known
    segments: int
    warnings: tuple = ()


def debrief(root: Path, session_ref: str, delivery_path: Path, course: str | None = None) -> DebriefResult:
    """`kit debrief`: write the session's debrief file beside the delivery file, pre-filled
    from the plan, or, when it exists, check it. Raises KitError on errors."""
    from kit.delivery import load_delivery
    from kit.edit import load_session
    from kit.errors import KitError
    from kit.safefs import atomic_write, real_folder

    read = Problems()
    delivery = load_delivery(Path(delivery_path), read)
    read.raise_if_errors()
    assert delivery is not None
    one = load_session(root, session_ref, course)
    session, found, kit = one.session, one.course, one.kit
    path = debrief_path(Path(delivery_path), delivery.cohort, session)
    top = Path(delivery_path).parent
    if not real_folder(path.parent, top):
        raise KitError(f"{path.parent}: not a folder of its own below {top} (a link or a file is in "
                       "the way); nothing was written")
    if path.exists() or path.is_symlink():
        checked = Problems()
        result = load_debrief(path, path.parent, kit, checked)
        checked.raise_if_errors()
        assert result is not None
        timed = sum(1 for run in result.segments if run.minutes is not None)
        return DebriefResult(path, False, timed, len(session.segments), tuple(checked.warnings))
    day = delivery.dates(len(found.sessions))[found.sessions.index(session)].isoformat()
    text = prefill(found, session, delivery.start_minutes, delivery.cohort, day, delivery.facilitator)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode())
    return DebriefResult(path, True, 0, len(session.segments))
