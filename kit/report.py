"""`kit report`: what the debriefs of a course say, session by session.

Across every debrief of a course (kit.debrief), for each session: what each segment was
planned to take and what it took (median, range, number of deliveries), drawn as a dot
plot; the cuts used; the feedback cards' ratings; the facilitators' notes by segment,
their unanticipated questions, the stories that landed or did not, and what they would
change. On the first page, the segments that overran (by more than OVERRUN_MARGIN
minutes) in at least two deliveries, and by how much.

The dot plots are SVG made here as text (every author's string XML-escaped), written
beside the PDF (report-session-03.svg) and embedded in it as images with a text
alternative, the way the guide embeds its timeline. The PDF goes through the project's
own renderer (kit.pdf), from templates/report.html and report.css.

The core never prints: problems are KitErrors (`path:line: message`).
"""
from __future__ import annotations

import base64
import datetime as dt
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kit import model as m
from kit.debrief import (OVERRUN_MARGIN, RATINGS, Debrief, course_debriefs, load_debriefs, ran_over_in_most,
                          segment_stats)
from kit.errors import KitError, Problem, Problems
from kit.i18n import babel_locale, base, current, ngettext, using
from kit.i18n import gettext as _
from kit.timeline import xml_attr, xml_text

# Characters XML 1.0 does not allow (a YAML string may hold them, written as escapes), and
# those, with DEL and the C1 controls, that a page cannot show.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- the figures

@dataclass(frozen=True)
class Said:
    """A line someone wrote in a debrief, and which delivery it comes from."""
    text: str
    who: str   # "Spring 2027 cohort · 27 Jan 2027"


@dataclass(frozen=True)
class Row:
    """One segment: planned against actual minutes."""
    number: int                # 1-based, as on the run sheet
    title: str
    planned: int
    actual: tuple[int, ...]    # one per delivery that timed it, in the order of the deliveries
    deliveries: int            # deliveries of the session (timed or not)
    overruns: tuple[int, ...]  # the actual minutes of the deliveries that ran over by more than the margin
    flagged: bool              # overran in at least two deliveries
    notes: tuple[Said, ...]

    @property
    def timed(self) -> int:
        return len(self.actual)

    @property
    def median(self) -> float | None:
        return statistics.median(self.actual) if self.actual else None

    @property
    def low(self) -> int | None:
        return min(self.actual) if self.actual else None

    @property
    def high(self) -> int | None:
        return max(self.actual) if self.actual else None

    @property
    def over_in_most(self) -> bool:
        """Took longer than planned in more than half the deliveries that timed it."""
        return ran_over_in_most(self.planned, self.actual)

    # as printed
    @property
    def median_text(self) -> str:
        return minutes(self.median) if self.median is not None else "–"

    @property
    def range_text(self) -> str:
        if not self.actual:
            return "–"
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"

    @property
    def versus_plan(self) -> str:
        """The median minus the plan: '+4', '−2', '±0' ('–' when not timed)."""
        if self.median is None:
            return "–"
        diff = self.median - self.planned
        return "±0" if diff == 0 else ("+" if diff > 0 else "−") + minutes(abs(diff))


@dataclass(frozen=True)
class Overrun:
    """A segment that ran more than the margin over its plan in at least two deliveries."""
    session: int
    number: int
    title: str
    planned: int
    took: tuple[int, ...]   # the overrunning deliveries' minutes, sorted
    timed: int              # deliveries that timed the segment

    @property
    def over(self) -> tuple[int, ...]:
        return tuple(t - self.planned for t in self.took)

    @property
    def took_text(self) -> str:
        return and_list([str(t) for t in self.took])

    @property
    def over_text(self) -> str:
        low, high = min(self.over), max(self.over)
        text = _("%(low)s min over") if low == high else _("%(low)s to %(high)s min over")
        return text % {"low": low, "high": high}


@dataclass(frozen=True)
class CutUse:
    label: str      # "C2"
    title: str
    saves: int
    used: int       # deliveries that used it


@dataclass(frozen=True)
class RatingBar:
    rating: int
    cards: int
    width: int      # percent of the widest bar


@dataclass(frozen=True)
class Ratings:
    cards: int            # feedback cards collected
    bars: tuple[RatingBar, ...]  # 5 down to 1
    rated: int            # cards that gave a rating
    mean: float | None
    deliveries: int       # deliveries that collected cards

    @property
    def mean_text(self) -> str:
        return f"{self.mean:.1f}" if self.mean is not None else "–"


@dataclass(frozen=True)
class Story:
    title: str
    kind: str       # "anecdote" or "example"
    landed: int
    missed: int


@dataclass(frozen=True)
class Chart:
    svg: str        # the SVG document
    src: str        # the same, as a data: URL for the PDF
    alt: str        # what it shows, in words
    file: str       # the SVG file's name beside the PDF


@dataclass(frozen=True)
class SessionReport:
    number: int
    title: str
    planned_minutes: int
    deliveries: tuple[Said, ...]     # one per debrief: its cohort and date ('text' is the facilitator)
    rows: tuple[Row, ...]
    chart: Chart
    cuts: tuple[CutUse, ...]         # most used first
    ratings: Ratings
    worked: tuple[Said, ...]
    to_change: tuple[Said, ...]
    unanticipated: tuple[Said, ...]
    stories: tuple[Story, ...]
    changes: tuple[Said, ...]
    overruns: tuple[Overrun, ...]

    @property
    def noted(self) -> tuple[Row, ...]:
        """The segments with notes."""
        return tuple(r for r in self.rows if r.notes)

    @property
    def cuts_used(self) -> int:
        return sum(c.used for c in self.cuts)


@dataclass(frozen=True)
class Report:
    course: str          # its title
    slug: str
    language: str
    margin: int
    debriefs: int
    cohorts: tuple[str, ...]
    first: str           # the earliest and latest delivery dates, as printed ('' if none is dated)
    last: str
    sessions: tuple[SessionReport, ...]
    not_debriefed: tuple[int, ...]   # sessions without a debrief
    overruns: tuple[Overrun, ...]


# --------------------------------------------------------------------------- words and numbers

def minutes(value: float) -> str:
    """17 -> '17', 17.5 -> '17.5'."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def and_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + _(" and ") + items[-1]


def short_date(iso: str) -> str:
    """'2027-01-27' -> '27 Jan 2027' (as given when it is not a date)."""
    try:
        year, month, day = (int(p) for p in iso.split("-"))
        if base(current()) != "en":
            from babel.dates import format_date

            return format_date(dt.date(year, month, day), format="medium", locale=babel_locale(current()))
        return f"{day} {MONTHS[month - 1]} {year}"
    except (ValueError, IndexError):
        return iso


def who(debrief: Debrief) -> str:
    """The delivery a debrief is of: its cohort (else its folder) and date."""
    name = debrief.cohort or Path(debrief.path).parent.name or Path(debrief.path).stem
    return clean(" · ".join(p for p in (name, short_date(debrief.date) if debrief.date else "") if p))


def clean(text: str) -> str:
    """`text` without control characters (they print as boxes, and XML cannot hold most)."""
    return _CONTROLS.sub("", text)


def _order(debrief: Debrief) -> tuple:
    return (debrief.date or "9999", debrief.cohort, debrief.path)


# --------------------------------------------------------------------------- the report's content

def course_report(course: m.Course, debriefs: list[Debrief], margin: int = OVERRUN_MARGIN,
                  stem: str = "report") -> Report:
    """Everything the report says about `course`, from its debriefs (others are ignored)."""
    mine = sorted(course_debriefs(course, debriefs), key=_order)
    sessions = []
    for session in course.sessions:
        theirs = [d for d in mine if d.session == session.number]
        if theirs:
            sessions.append(session_report(session, theirs, margin, f"{stem}-session-{session.number:02d}.svg"))
    dates = sorted(d.date for d in mine if d.date)
    return Report(course.title, course.slug, course.language, margin, len(mine),
                  tuple(dict.fromkeys(clean(d.cohort) for d in mine if d.cohort)),
                  short_date(dates[0]) if dates else "", short_date(dates[-1]) if dates else "",
                  tuple(sessions),
                  tuple(s.number for s in course.sessions if not any(d.session == s.number for d in mine)),
                  tuple(o for s in sessions for o in s.overruns))


def session_report(session: m.Session, debriefs: list[Debrief], margin: int, file: str) -> SessionReport:
    from kit.views import recovery_plan

    rows = []
    for stats in segment_stats(session, debriefs):
        notes = tuple(Said(clean(run.notes), who(d)) for d in debriefs
                      if (run := d.run_of(stats.index)) is not None and run.notes.strip())
        over = stats.overruns(margin)
        rows.append(Row(stats.index + 1, stats.title, stats.planned, stats.actual, len(debriefs), over,
                        len(over) >= 2, notes))
    overruns = tuple(Overrun(session.number, r.number, r.title, r.planned, tuple(sorted(r.overruns)), r.timed)
                     for r in rows if r.flagged)

    used = Counter(title for d in debriefs for title in dict.fromkeys(d.cuts_used))
    cuts = sorted((CutUse(f"C{c.number}", c.title, c.saves, used[c.title]) for c in recovery_plan(session)),
                  key=lambda c: (-c.used, int(c.label[1:])))

    stories = []
    for block in session.blocks("anecdote", "example"):
        if block.title:
            stories.append(Story(block.title, block.kind,
                                 sum(1 for d in debriefs if block.title in d.landed),
                                 sum(1 for d in debriefs if block.title in d.did_not_land)))

    def said(texts) -> tuple[Said, ...]:
        return tuple(Said(clean(t), who(d)) for d, items in texts for t in items if t.strip())

    chart = make_chart(session, rows, len(debriefs), margin, file)
    return SessionReport(
        session.number, session.title, session.planned_minutes,
        tuple(Said(clean(d.facilitator), who(d)) for d in debriefs), tuple(rows), chart, tuple(cuts),
        ratings(debriefs),
        said((d, d.feedback.worked) for d in debriefs), said((d, d.feedback.to_change) for d in debriefs),
        said((d, d.unanticipated) for d in debriefs), tuple(stories),
        said((d, (d.change,)) for d in debriefs), overruns)


def ratings(debriefs: list[Debrief]) -> Ratings:
    counts = [sum(d.feedback.ratings[i] for d in debriefs) for i in range(len(RATINGS))]
    rated = sum(counts)
    widest = max(counts) or 1
    bars = tuple(RatingBar(i + 1, counts[i], round(100 * counts[i] / widest)) for i in reversed(range(len(counts))))
    mean = sum((i + 1) * n for i, n in enumerate(counts)) / rated if rated else None
    return Ratings(sum(d.feedback.cards for d in debriefs), bars, rated, mean,
                   sum(1 for d in debriefs if d.feedback.cards))


# --------------------------------------------------------------------------- the chart

FONT = "Inter, 'DejaVu Sans', sans-serif"
# In user units. The chart is printed as wide as the column (168 mm on A4, 174 on Letter),
# so a unit is about 0.48 pt: 17 units print at 8 pt, 15 at 7.2 pt.
WIDTH = 1000.0
FONT_SIZE = 17.0
SMALL = 15.0
CHAR = 0.5           # a character's width, roughly, in ems (Inter's average; for wrapping labels)
NUMBER_X = 0.0       # the segment's number
LABEL_X = 30.0       # its title, wrapped to two lines at most
LABEL_END = 340.0
PLOT_LEFT = 360.0
PLOT_RIGHT = 890.0
DIFF_END = WIDTH     # the median against the plan, right-aligned
LINE = 19.0          # a label's line height
ROW_PAD = 9.0
HEAD = 40.0          # room above the rows for the right column's heading
INK = "#1a1a1a"
GRID = "#c8c8c8"
BAND = "#e4e4e4"     # behind a segment that overran in two or more deliveries
NICE_STEPS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 240, 480)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def wrap(text: str, width: float, size: float = FONT_SIZE, lines: int = 2) -> list[str]:
    """`text` in at most `lines` lines of about `width` units; the last one ends in '…' if cut."""
    most = max(int(width / (CHAR * size)), 4)
    out: list[str] = []
    words = text.split()
    current = ""
    for i, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= most:
            current = candidate
            continue
        if current:
            out.append(current)
        current = word
        if len(out) == lines - 1:
            rest = " ".join(words[i:])
            current = rest if len(rest) <= most else rest[:most - 1].rstrip() + "…"
            break
    if current:
        out.append(current)
    return [line if len(line) <= most else line[:most - 1] + "…" for line in out[:lines]] or [""]


def axis_step(top: float) -> int:
    """A round step for the minutes axis: at most eight steps up to `top`."""
    return next((s for s in NICE_STEPS if math.ceil(top / s) <= 8), NICE_STEPS[-1] * math.ceil(top / 3840))


def dot_plot_svg(rows: Sequence[Row], margin: int = OVERRUN_MARGIN, title: str = "") -> str:
    """Planned against actual minutes, one row per segment, as an SVG document.

    Grayscale-safe: the plan is an open diamond, the range of actual minutes a line with end
    caps, the median a filled dot, a segment that overran in two or more deliveries a gray
    band and bold type. `title` (the chart in words) becomes the SVG's <title>."""
    top_value = max([r.planned for r in rows] + [a for r in rows for a in r.actual] + [1])
    step = axis_step(top_value)
    axis_max = step * math.ceil(top_value / step)

    def x(value: float) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * value / axis_max

    labels = [wrap(r.title, LABEL_END - LABEL_X) for r in rows]
    heights = [max(len(lines) * LINE + 2 * ROW_PAD, 36.0) for lines in labels]
    tops = [HEAD + sum(heights[:i]) for i in range(len(rows))]
    bottom = HEAD + sum(heights)
    axis_y = bottom + 4
    legend_y = axis_y + 70
    legend, legend_height = _legend(legend_y, margin, any(r.flagged for r in rows))
    height = legend_y + legend_height

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{_num(WIDTH)}" height="{_num(height)}" '
           f'viewBox="0 0 {_num(WIDTH)} {_num(height)}" font-family={xml_attr(FONT)} '
           f'font-size="{_num(FONT_SIZE)}" fill="{INK}">']
    if title:
        out.append(f"<title>{xml_text(title)}</title>")
    out.append(f'<rect x="0" y="0" width="{_num(WIDTH)}" height="{_num(height)}" fill="#fff"/>')
    median, versus = xml_text(_("median")), xml_text(_("vs plan"))
    out.append(f'<text x="{_num(DIFF_END)}" y="{_num(HEAD - 22)}" text-anchor="end" font-size="{_num(SMALL)}" '
               f'fill="#444">{median}</text>'
               f'<text x="{_num(DIFF_END)}" y="{_num(HEAD - 6)}" text-anchor="end" font-size="{_num(SMALL)}" '
               f'fill="#444">{versus}</text>')
    for row, row_top, h in zip(rows, tops, heights):  # bands behind the segments that overran
        if row.flagged:
            out.append(f'<rect x="-4" y="{_num(row_top)}" width="{_num(WIDTH + 8)}" height="{_num(h)}" '
                       f'fill="{BAND}"/>')
    for value in range(0, axis_max + 1, step):  # the grid
        out.append(f'<path d="M{_num(x(value))} {_num(HEAD)}V{_num(axis_y)}" stroke="{GRID}" '
                   f'stroke-width="1" stroke-dasharray="3 4"/>')
    for row_top in tops[1:]:
        out.append(f'<path d="M0 {_num(row_top)}H{_num(WIDTH)}" stroke="{GRID}" stroke-width="0.8"/>')

    for row, lines, row_top, h in zip(rows, labels, tops, heights):
        out.append(_row(row, lines, row_top, h, x))

    # the axis: a line, ticks, minutes and its name
    out.append(f'<path d="M{_num(PLOT_LEFT)} {_num(axis_y)}H{_num(PLOT_RIGHT)}" stroke="{INK}" stroke-width="1.5"/>')
    for value in range(0, axis_max + 1, step):
        out.append(f'<path d="M{_num(x(value))} {_num(axis_y)}v7" stroke="{INK}" stroke-width="1.5"/>'
                   f'<text x="{_num(x(value))}" y="{_num(axis_y + 26)}" text-anchor="middle">{value}</text>')
    axis_name = xml_text(_("minutes"))
    out.append(f'<text x="{_num((PLOT_LEFT + PLOT_RIGHT) / 2)}" y="{_num(axis_y + 52)}" text-anchor="middle" '
               f'font-weight="600">{axis_name}</text>')
    out.append(legend)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _row(row: Row, lines: list[str], row_top: float, h: float, x) -> str:
    weight = ' font-weight="700"' if row.flagged else ""
    mid = row_top + h / 2
    first = mid - (len(lines) - 1) * LINE / 2 + 6  # baseline of the first line (6: half a digit's height)
    out = [f'<g class="row" data-segment="{row.number}">',
           f"<title>{xml_text(_row_title(row) + _row_words(row))}</title>",
           f'<text x="{_num(NUMBER_X)}" y="{_num(first)}" fill="#555"{weight}>{row.number}</text>']
    for i, line in enumerate(lines):
        out.append(f'<text x="{_num(LABEL_X)}" y="{_num(first + i * LINE)}"{weight}>{xml_text(line)}</text>')
    if row.actual:
        low, high, med = x(row.low or 0), x(row.high or 0), x(row.median or 0)
        out.append(f'<path d="M{_num(low)} {_num(mid)}H{_num(high)}" stroke="{INK}" stroke-width="3"/>'
                   f'<path d="M{_num(low)} {_num(mid - 7)}v14M{_num(high)} {_num(mid - 7)}v14" stroke="{INK}" '
                   f'stroke-width="2.5"/>'
                   f'<circle cx="{_num(med)}" cy="{_num(mid)}" r="6" fill="{INK}"/>')
    else:
        right = x(row.planned) + 16 + 9 * CHAR * SMALL <= PLOT_RIGHT  # room for it right of the plan?
        where = f'x="{_num(x(row.planned) + 16)}"' if right else f'x="{_num(x(row.planned) - 16)}" text-anchor="end"'
        out.append(f'<text {where} y="{_num(mid + 5)}" font-size="{_num(SMALL)}" '
                   f'font-style="italic" fill="#555">not timed</text>')
    px = x(row.planned)
    out.append(f'<path d="M{_num(px)} {_num(mid - 10)}L{_num(px + 10)} {_num(mid)}L{_num(px)} {_num(mid + 10)}'
               f'L{_num(px - 10)} {_num(mid)}Z" fill="none" stroke="{INK}" stroke-width="2"/>')
    out.append(f'<text x="{_num(DIFF_END)}" y="{_num(mid + 6)}" text-anchor="end"{weight}>'
               f"{xml_text(row.versus_plan)}</text>")
    out.append("</g>")
    return "".join(out)


def _row_title(row: Row) -> str:
    return _("%(i)s. %(title)s: planned %(n)s min, ") % {"i": row.number, "title": row.title, "n": row.planned}


def _row_words(row: Row) -> str:
    if not row.actual:
        return _("not timed")
    took = (_("took %(low)s to %(high)s") if row.low != row.high else _("took %(low)s")) % {
        "low": row.low, "high": row.high}
    return _("median %(median)s, %(took)s in %(timed)s of %(num)s deliveries") % {
        "median": row.median_text, "took": took, "timed": row.timed, "num": row.deliveries}


def _legend(y: float, margin: int, flagged: bool) -> tuple[str, float]:
    """The legend, items laid out left to right and wrapped: (SVG, height)."""
    items: list[tuple[str, str]] = [
        ("planned", _("planned minutes")),
        ("range", _("shortest to longest delivery")),
        ("median", _("median of the deliveries")),
    ]
    if flagged:
        items.append(("band", _("over by more than %(n)s min in 2 or more deliveries") % {"n": margin}))
    swatch, gap, spacing = 30.0, 8.0, 30.0
    out, cx, cy = [], 0.0, y
    for kind, text in items:
        width = swatch + gap + len(text) * CHAR * SMALL
        if cx > 0 and cx + width > WIDTH:
            cx, cy = 0.0, cy + 28
        mid = cy - 5
        if kind == "planned":
            c = cx + swatch / 2
            out.append(f'<path d="M{_num(c)} {_num(mid - 9)}L{_num(c + 9)} {_num(mid)}L{_num(c)} {_num(mid + 9)}'
                       f'L{_num(c - 9)} {_num(mid)}Z" fill="none" stroke="{INK}" stroke-width="2"/>')
        elif kind == "range":
            out.append(f'<path d="M{_num(cx + 2)} {_num(mid)}H{_num(cx + swatch - 2)}" stroke="{INK}" '
                       'stroke-width="3"/>'
                       f'<path d="M{_num(cx + 2)} {_num(mid - 7)}v14M{_num(cx + swatch - 2)} {_num(mid - 7)}v14" '
                       f'stroke="{INK}" stroke-width="2.5"/>')
        elif kind == "median":
            out.append(f'<circle cx="{_num(cx + swatch / 2)}" cy="{_num(mid)}" r="6" fill="{INK}"/>')
        else:
            out.append(f'<rect x="{_num(cx)}" y="{_num(mid - 10)}" width="{_num(swatch)}" height="20" fill="{BAND}" '
                       f'stroke="#999" stroke-width="0.8"/>')
        out.append(f'<text x="{_num(cx + swatch + gap)}" y="{_num(cy)}" font-size="{_num(SMALL)}">'
                   f"{xml_text(text)}</text>")
        cx += width + spacing
    return "".join(out), cy - y + 16


def chart_alt(session_number: int, rows: Sequence[Row], deliveries: int, margin: int = OVERRUN_MARGIN) -> str:
    """The chart in words: how many segments ran over in most deliveries, and which."""
    timed = [r for r in rows if r.actual]
    over = [r for r in timed if r.over_in_most]
    head = (_("Session %(number)s: planned against actual minutes of its %(segments)s segments, ")
            % {"number": session_number, "segments": len(rows)}
            + ngettext("from %(num)s delivery. ", "from %(num)s deliveries. ", deliveries) % {"num": deliveries})
    if not timed:
        return head + _("No segment was timed.")
    if over:
        text = head + (_("%(over)s of %(segments)s segments ran over in most deliveries: ")
                       % {"over": len(over), "segments": len(rows)}
                       + "; ".join(_("'%(title)s' planned %(planned)s, median %(median)s")
                                   % {"title": r.title, "planned": r.planned, "median": r.median_text}
                                   + (_(" (range %(low)s to %(high)s)") % {"low": r.low, "high": r.high}
                                      if r.low != r.high else "")
                                   for r in over) + ". ")
        rest = len(timed) - len(over)
        if rest:
            text += _("The other %(n)s timed took at most their plan in most deliveries.") % {"n": rest}
    else:
        text = head + _("No segment ran over in most deliveries.")
    flagged = [r for r in rows if r.flagged]
    if flagged:
        text += (_(" Over by more than %(n)s minutes in two or more deliveries: ") % {"n": margin}
                 + ", ".join(f"'{r.title}'" for r in flagged) + ".")
    untimed = len(rows) - len(timed)
    if untimed:
        text += " " + ngettext("%(num)s segment was not timed.", "%(num)s segments were not timed.",
                               untimed) % {"num": untimed}
    return text.strip()


def make_chart(session: m.Session, rows: Sequence[Row], deliveries: int, margin: int, file: str) -> Chart:
    alt = chart_alt(session.number, rows, deliveries, margin)
    svg = dot_plot_svg(rows, margin, title=alt)
    return Chart(svg, "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"),
                 alt, file)


# --------------------------------------------------------------------------- reading and writing

@dataclass(frozen=True)
class ReportResult:
    pdf: Path
    charts: tuple[Path, ...]
    course: str
    debriefs: int
    sessions: int
    overruns: int

    @property
    def summary(self) -> str:
        """'5 debriefs of 2 sessions of fixture; 1 segment overran in two or more deliveries'."""
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        over = (f"{count(self.overruns, 'segment')} overran in two or more deliveries" if self.overruns
                else "no segment overran in two or more deliveries")
        return f"{count(self.debriefs, 'debrief')} of {count(self.sessions, 'session')} of {self.course}; {over}"


def read(root: Path, folder: Path, course: str | None) -> tuple[m.Course, list[Debrief]]:
    """The course to report on and every debrief in `folder`; KitError on any debrief's error,
    on an error in that course's modules, and when the folder holds none of its debriefs."""
    from kit.loader import load_kit

    folder = Path(folder)
    if not folder.is_dir():
        raise KitError(f"{folder}: no debriefs folder (`kit debrief SESSION --delivery FILE` writes them "
                       "in debriefs/ beside the delivery file); name the folder with --debriefs")
    loaded = load_kit(root)  # every course, so that a folder may hold the debriefs of several
    slugs = sorted(p.name for p in (Path(root) / "content").iterdir() if p.is_dir() and not p.name.startswith("."))
    if course is not None and course not in slugs:
        raise KitError(f"no course '{course}' in {Path(root) / 'content'}; courses: {', '.join(slugs) or 'none'}")
    found = Problems()
    debriefs = load_debriefs(folder, loaded.kit, found)
    errors = list(found.errors)
    if course is None:
        having = list(dict.fromkeys(d.course for d in debriefs))
        if len(slugs) == 1:
            course = slugs[0]
        elif len(having) == 1:
            course = having[0]
        elif having:
            errors.append(Problem("", 0, 0, "error", f"{folder}: debriefs of {len(having)} courses "
                                                     f"({', '.join(having)}); say which with --course"))
    kit_errors = [p for p in loaded.problems.errors
                  if course is None or not p.path.startswith("content/") or p.path.startswith(f"content/{course}/")]
    if errors or kit_errors:
        raise KitError(kit_errors + errors)
    chosen = loaded.kit.course(course) if course else None
    if chosen is None or not debriefs:
        raise KitError(f"{folder}: no debrief files (*.yaml) in it; write one after a session with "
                       "`kit debrief SESSION --delivery FILE`")
    if not course_debriefs(chosen, debriefs):
        raise KitError(f"{folder}: no debriefs of course '{chosen.slug}' in it ({len(debriefs)} of other "
                       "courses); write one after a session with `kit debrief SESSION --delivery FILE`")
    return chosen, debriefs


def render(root: Path, made: Report, paper: str = "a4") -> bytes:
    """The report as a tagged PDF (PDF/UA-1), through the project's renderer."""
    from kit import pdf
    from kit.assemble import finish
    from kit.build import PAPERS
    from kit.paths import bundled_templates
    from kit.render import environment, render_template, stylesheet

    env = environment(root, made.language)
    with using(made.language):
        html = render_template(env, "report.html", report=made)
    css = f"@page {{ size: {PAPERS[paper]}; }}\n" + stylesheet(env, "base.css") + stylesheet(env, "report.css")
    roots = [root / "templates", bundled_templates()]
    try:
        rendered = pdf.render_pdf(html, css, (root / "templates").resolve().as_uri() + "/", roots,
                                  f"report:{made.slug}")
    except pdf.RefusedResource as exc:
        raise KitError(f"report of {made.slug}: {exc}") from None
    return finish(rendered.pdf)


def report(root: Path, debriefs: Path, out: Path, course: str | None = None, paper: str = "a4",
           margin: int = OVERRUN_MARGIN) -> ReportResult:
    """`kit report`: the report on the course's debriefs as `out` (a PDF) and one SVG chart per
    debriefed session beside it (OUT-session-NN.svg). Nothing is written on an error."""
    from kit.safefs import atomic_write

    root, out = Path(root), Path(out)
    if out.is_dir():
        raise KitError(f"{out}: is a folder; give the report's file name, e.g. -o {out / 'report.pdf'}")
    if not out.parent.is_dir():
        raise KitError(f"{out.parent}: no such folder; nothing was written")
    chosen, found = read(root, debriefs, course)
    with using(chosen.language):  # the report's words, dates and chart texts in the course's language
        made = course_report(chosen, found, margin, stem=out.stem)
        data = render(root, made, paper)
    charts = [(out.with_name(s.chart.file), s.chart.svg.encode("utf-8")) for s in made.sessions]
    for path, body in charts + [(out, data)]:
        try:
            atomic_write(path, body)
        except OSError as exc:
            raise KitError(f"{path}: cannot write the report: {exc.strerror or exc}") from None
    return ReportResult(out, tuple(p for p, _ in charts), chosen.slug, made.debriefs, len(made.sessions),
                        len(made.overruns))
