"""`kit run`: a presenter page and a projector page that keep one session on time.

The facilitator's laptop shows `/presenter`: the current segment with its say line,
talking points and timing cues, the clock against the plan, how far ahead or behind the
session is and, when behind, the cuts still available with the minutes they save (in the
recovery plan's order), the next segment and a pair-flip timer that calls "swap" and
"debrief". The room's screen shows `/projector`: the segment's title and only participant
material, made from the same participant views as the worksheets (kit.views), never
from a facilitator block.

The state lives here, in `Run`: the current segment, when the session and each segment
started, pauses, and the cuts marked as used. The presenter page POSTs actions to
`/action` (with the run's token, which only the presenter page carries); both pages poll
`/state/...` twice a second. Ahead/behind: the session clock when the current segment
started against its planned start, or, once the segment overruns its planned minutes,
the clock now against its planned end (whichever is later).

When the session ends (the presenter's "end session", or Ctrl-C), the actual start of
each segment reached and the cuts used are written into the session's debrief file
(kit.debrief's format), pre-filled when it does not exist yet, atomically, and only once
`load_debrief` accepts it.

The HTTP layer is kit.preview's: 127.0.0.1 only, answers only for local Host headers,
bounded requests, no file from outside the kit or the package. Nothing here prints: what
is worth saying goes through a `log` callback. No click.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import html
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from kit import i18n, kinds
from kit import model as m
from kit import views
from kit.errors import KitError, Problems
from kit.i18n import _n
from kit.i18n import gettext as _
from kit.markdown import link_targets, render_markdown
from kit.preview import FILES, HOST, LOCAL_HOSTS, LocalHandler, LocalServer, Preview

DEFAULT_PORT = 8001
POLL_MS = 500               # how often the pages ask for the state
MAX_ACTION_BYTES = 2048     # an action is a few words of JSON
TOKEN_HEADER = "X-Kit-Run-Token"
CALL_SECONDS = 20           # how long the presenter shows "call swap now" after a turn begins
LATE_START_LIMIT = 60 * 60  # a start further than this from the delivery's time is a rehearsal
TEMPLATES = ("run-presenter.html", "run-projector.html", "run.css", "run.js")
WORDS_META = "kit-run-words"  # the page's meta holding the words run.js writes (JSON), in the run's language
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'")

Clock = Callable[[], dt.datetime]


# --- the plan: what the pages show of each segment, made once --------------------------------

@dataclass(frozen=True)
class Phase:
    """One stretch of a pair flip's timer, in seconds from the pair's start."""
    label: str       # "Set-up", "A explains", "B explains", "Turn", "Debrief" (in the course's language)
    start: int
    seconds: int
    call: str = ""   # what the facilitator calls as it begins: "swap", "debrief" (ditto)
    turn: str = ""   # who explains: "a", "b" or ""
    key: str = ""    # which phase, for the pages: "setup", "a", "b", "turn", "debrief"

    @property
    def end(self) -> int:
        return self.start + self.seconds


def pair_phases(pair: m.PairActivity, room: int) -> tuple[Phase, ...]:
    """The pair flip's timer as phases: the same arithmetic as views.pair_split, which
    prints the plan of it on the run sheet (set-up, each turn, the swap, the debrief).
    Its labels and calls are in the language `i18n.using` set."""
    phases: list[Phase] = []
    swap, debrief_call = i18n.pgettext("call", "swap"), i18n.pgettext("call", "debrief")
    at = 0
    if pair.setup:
        phases.append(Phase(_("Set-up"), 0, pair.setup * 60, key="setup"))
        at = pair.setup * 60
    debrief = pair.debrief_minutes
    if pair.minutes:
        if pair.swap:
            phases.append(Phase(_("A explains"), at, pair.minutes * 60, turn="a", key="a"))
            phases.append(Phase(_("B explains"), at + pair.minutes * 60, pair.minutes * 60, swap, "b", "b"))
        else:
            phases.append(Phase(_("Turn"), at, pair.minutes * 60, turn="a", key="turn"))
        at += (pair.total_minutes or 0) * 60
        if debrief is None:
            debrief = room - (pair.setup or 0) - (pair.total_minutes or 0)
    elif pair.swap:  # "split the time evenly, then call swap"
        turns = max(0, room - (pair.setup or 0) - (debrief or 0)) * 60
        phases.append(Phase(_("A explains"), at, turns // 2, turn="a", key="a"))
        phases.append(Phase(_("B explains"), at + turns // 2, turns - turns // 2, swap, "b", "b"))
        at += turns
    if debrief and debrief > 0:
        phases.append(Phase(_("Debrief"), at, debrief * 60, debrief_call, key="debrief"))
    return tuple(phases)


@dataclass(frozen=True)
class PairTimer:
    offset: int                   # seconds from the segment's start to the pair's
    phases: tuple[Phase, ...]
    plan: str                     # views.pair_split's line, as the run sheet prints it


@dataclass(frozen=True)
class SegmentPlan:
    index: int
    title: str
    kind: str
    start: int            # minutes from the session's start
    minutes: int
    span: str             # "12:40–12:55" or "0:10–0:25"
    at: str               # its planned start, as printed
    say: str              # plain text of the say line
    presenter_html: str   # say, cues, talking points, the other blocks in a line each
    projector_html: str   # participant views only
    timer: PairTimer | None

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(frozen=True)
class Plan:
    root: Path
    kit: m.Kit
    course: m.Course
    session: m.Session
    segments: tuple[SegmentPlan, ...]
    cuts: tuple[views.PlannedCut, ...]   # the recovery plan, in its order
    start_clock: int | None              # the delivery's start, minutes after midnight
    welcome_html: str                    # the projector before the start: participant material
    end_html: str
    delivery: Any = None                 # a kit.delivery.Delivery
    delivery_path: Path | None = None
    language: str = i18n.DEFAULT         # what the pages print in: the delivery's, else the course's

    def label(self, minutes: int) -> str:
        return views.time_label(self.start_clock)(minutes)


def _e(text: object) -> str:
    return html.escape(str(text))


def _plain(text: str, limit: int = 160) -> str:
    """The first paragraph of Markdown as a short line of text."""
    first = text.strip().split("\n\n", 1)[0]
    first = " ".join(first.split())
    return first if len(first) <= limit else first[:limit - 1].rstrip() + "…"


# The names of the bundled block kinds the presenter tags a segment's other blocks with
# (kit.i18n.KIND_WORDS has the segment kinds, an anecdote, an example and a pair): listed
# so that extraction puts them in the catalogue; printed with i18n.kind_word.
BLOCK_WORDS = (
    _n("kind", "question"), _n("kind", "misconception"), _n("kind", "check"), _n("kind", "ask"),
    _n("kind", "prompt"), _n("kind", "cut"), _n("kind", "note"),
)


def _presenter_html(seg: m.Segment, fmt, plan_cuts: tuple[views.PlannedCut, ...]) -> str:
    out = []
    if seg.say:
        out.append(f'<blockquote class="say">{render_markdown(seg.say)}</blockquote>')
    cue_lines = views.cues(seg, fmt)
    if cue_lines:
        out.append('<dl class="cues">' + "".join(
            f"<dt>{_e(c.label)}</dt><dd>{render_markdown(c.text, inline=True)}</dd>" for c in cue_lines) + "</dl>")
    talk = [b for b in seg.blocks if isinstance(b, m.Talk)]
    if talk:
        out.append('<div class="talk">' + "".join(str(render_markdown(b.text)) for b in talk) + "</div>")
    others = []
    by_src = {c.src: c for c in plan_cuts}
    for b in seg.blocks:
        if b.kind in ("talk", "say", "timing"):
            continue
        if b.kind == "cut" and b.src in by_src:
            c = by_src[b.src]
            line = f"{c.label} {c.title} " + _("(saves %(n)s min, decide by %(time)s)") % {"n": c.saves,
                                                                                         "time": c.decide}
        else:
            title = getattr(b, "title", "") or ""
            text = getattr(b, "text", "") or getattr(b, "story", "") or getattr(b, "instructions", "") or ""
            line = title or _plain(text)
            if title and text and b.kind in ("check", "ask", "question", "misconception"):
                line = f"{title}: {_plain(text)}"
        kind = kinds.kind_of(b)
        noun = getattr(kind, "name", b.kind)
        paced = seg.pace(b)
        when = f" <span class=\"at\">{_e(fmt(paced.start))}</span>" if paced else ""
        others.append(f'<li><span class="tag tag-{_e(noun)}">{_e(i18n.kind_word(noun))}</span>{when} '
                      f"{render_markdown(line, inline=True)}</li>")
    if others:
        heading = _e(_("Also in this segment"))  # (a call inside an f-string is not extracted)
        out.append(f'<h3>{heading}</h3><ul class="others">' + "".join(others) + "</ul>")
    return "\n".join(out)


def _links(texts: list[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for url in link_targets(text):
            if url and url.startswith(("https://", "http://")) and url not in found:
                found.append(url)
    return found


def _qr_html(urls: list[str], limit: int = 3) -> str:
    if not urls:
        return ""
    items = []
    for url in urls[:limit]:
        image = views.qr_image(url)
        items.append(f'<figure class="qr"><img src="{_e(image.src)}" alt="{_e(image.alt)}">'
                     f"<figcaption>{_e(url)}</figcaption></figure>")
    return '<aside class="qrs">' + "".join(items) + "</aside>"


def _participant_block(view: Any, number: int | None) -> tuple[str, list[str]]:
    """One participant view as projector HTML, and the texts it links from. `view` holds
    a kind's participant fields only (kit.views.participant_view)."""
    names = [f.name for f in dataclasses.fields(view) if f.name != "src"]
    values = {name: getattr(view, name) for name in names}
    texts = [v for v in values.values() if isinstance(v, str)]
    texts += [item for v in values.values() if isinstance(v, tuple) for item in v if isinstance(item, str)]
    kind = view.kind
    title = values.get("title") or ""
    heading = _("Question %(number)s on your worksheet") % {"number": number} if number else ""
    out = [f'<section class="block block-{_e(kind)}">']
    if heading:
        out.append(f'<p class="eyebrow">{_e(heading)}</p>')
    if title:
        out.append(f"<h2>{render_markdown(title, inline=True)}</h2>")
    if kind == "pair":
        if values.get("instructions"):
            out.append(f'<div class="text">{render_markdown(values["instructions"])}</div>')
        roles = [("a", "A", values.get("role_a")), ("b", "B", values.get("role_b"))]
        out.append('<div class="roles">' + "".join(
            f'<div class="role role-{key}" data-turn="{key}"><span class="who">{label}</span>'
            f"<span>{render_markdown(text or '', inline=True)}</span></div>" for key, label, text in roles if text)
            + "</div>")
        if values.get("debrief"):
            out.append('<div class="debrief"><h3>' + _e(_("Debrief")) + "</h3><ul>" + "".join(
                f"<li>{render_markdown(q, inline=True)}</li>" for q in values["debrief"]) + "</ul></div>")
    else:
        for name, value in values.items():
            if name in ("title",) or isinstance(value, (bool, int, float)) or value is None:
                continue
            if isinstance(value, str) and value:
                out.append(f'<div class="text">{render_markdown(value)}</div>')
            elif isinstance(value, tuple) and value:
                out.append("<ul>" + "".join(f"<li>{render_markdown(str(v), inline=True)}</li>"
                                            for v in value) + "</ul>")
    out.append("</section>")
    return "".join(out), texts


def _projector_html(session: m.Session, seg: m.Segment, numbers: dict[m.Source, int]) -> str:
    """The room's screen for a segment: its title and its blocks' participant views (the
    worksheet's copies of them), never a facilitator block."""
    views_of = [views.participant_view(b) for b in seg.blocks if kinds.for_participants(b)]
    parts, texts = [], []
    for view in views_of:
        text, linked = _participant_block(view, numbers.get(view.src))
        parts.append(text)
        texts += linked
    body = "".join(parts) or '<p class="quiet">' + _e(_("Eyes on the room.")) + "</p>"
    return (f'<h1 class="segment-title">{render_markdown(seg.title, inline=True)}</h1>'
            f'<div class="screen"><div class="blocks">{body}</div>{_qr_html(_links(texts))}</div>')


def _welcome_html(session: m.Session) -> str:
    sheet = views.worksheet_view(session)  # participant material only: the pre-work and its QR codes
    items = []
    for p in sheet.prework:
        minutes = " (" + _("%(n)s min") % {"n": p.minutes} + ")" if p.minutes else ""
        items.append(f"<li>{render_markdown(p.title, inline=True)}{_e(minutes)}</li>")
    before = _e(_("Before today"))
    prework = f'<div class="prework"><h2>{before}</h2><ul>{"".join(items)}</ul></div>' if items else ""
    codes = _qr_html([p.url for p in sheet.prework if p.url])
    eyebrow = _e(_("Session %(number)s") % {"number": sheet.number})
    soon = _e(_("We start in a moment."))
    return (f'<p class="eyebrow">{eyebrow}</p>'
            f'<h1 class="session-title">{render_markdown(sheet.title, inline=True)}</h1>'
            f'<div class="screen"><div class="blocks">{prework}'
            f'<p class="quiet">{soon}</p></div>{codes}</div>')


def _end_html(session: m.Session) -> str:
    eyebrow = _e(_("Session %(number)s") % {"number": session.number})
    thanks, cards = _e(_("Thank you!")), _e(_("Please hand in your feedback card on the way out."))
    return (f'<p class="eyebrow">{eyebrow}</p>'
            f'<h1 class="session-title">{render_markdown(session.title, inline=True)}</h1>'
            f'<div class="screen"><div class="blocks"><p class="big">{thanks}</p>'
            f'<p class="quiet">{cards}</p></div></div>')


def make_plan(root: Path, kit: m.Kit, course: m.Course, session: m.Session, delivery: Any = None,
              delivery_path: Path | None = None) -> Plan:
    """What the pages show of `session`, in the delivery's language when it sets one, else
    the course's (as `kit build` prints the guide and the worksheets)."""
    if not session.segments:
        raise KitError(f"{session.src}: session {session.number} has no segments to run")
    language = (getattr(delivery, "language", "") or course.language or i18n.DEFAULT)
    with i18n.using(language):
        return _make_plan(root, kit, course, session, delivery, delivery_path, language)


def _make_plan(root: Path, kit: m.Kit, course: m.Course, session: m.Session, delivery: Any,
               delivery_path: Path | None, language: str) -> Plan:
    start_clock = delivery.start_minutes if delivery is not None else None
    fmt = views.time_label(start_clock)
    cuts = views.recovery_plan(session, start_clock)
    numbers = views.question_numbers(session)
    rows = views.run_of_show(session, start_clock)
    segments = []
    for i, (seg, row) in enumerate(zip(session.segments, rows)):
        timer = None
        pairs = seg.of_kind("pair")
        if pairs:
            pair = pairs[0]
            paced = seg.pace(pair)
            room = paced.minutes if paced and paced.minutes else seg.minutes
            offset = (paced.start - seg.start) * 60 if paced else 0
            timer = PairTimer(offset, pair_phases(pair, room),
                              views.pair_split(pair, room, paced.start if paced else seg.start, fmt))
        segments.append(SegmentPlan(i, seg.title, seg.kind, seg.start, seg.minutes, row.span, row.start,
                                    _plain(seg.say, 400), _presenter_html(seg, fmt, cuts),
                                    _projector_html(session, seg, numbers), timer))
    return Plan(root, kit, course, session, tuple(segments), cuts, start_clock, _welcome_html(session),
                _end_html(session), delivery, delivery_path, language)


def load_plan(root: Path, session_ref: str, course: str | None = None, delivery_path: Path | None = None) -> Plan:
    """The plan of one session of a kit; errors in other sessions do not stop it. KitError."""
    from kit.delivery import load_delivery
    from kit.edit import load_session

    delivery = None
    if delivery_path is not None:
        read = Problems()
        delivery = load_delivery(Path(delivery_path), read)
        read.raise_if_errors()
    one = load_session(root, session_ref, course)
    return make_plan(Path(one.ref.root), one.kit, one.course, one.session, delivery,
                     Path(delivery_path) if delivery_path else None)


# --- the debrief file ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DebriefTarget:
    path: Path
    cohort: str
    date: str
    facilitator: str
    top: Path        # the folder the file's folders are made under (a link there is refused)


def debrief_target(plan: Plan, cwd: Path, today: dt.date) -> DebriefTarget:
    """Where `kit run` writes the session's debrief: with a delivery, where `kit debrief`
    does (debriefs/<cohort>/NN.yaml beside the delivery file); without one, in the current
    folder's debriefs/undated/YYYY-MM-DD-NN.yaml, which `kit report` reads by default."""
    from kit.debrief import debrief_path

    session = plan.session
    if plan.delivery is not None and plan.delivery_path is not None:
        index = plan.course.sessions.index(session)
        day = plan.delivery.dates(len(plan.course.sessions))[index].isoformat()
        return DebriefTarget(debrief_path(plan.delivery_path, plan.delivery.cohort, session),
                             plan.delivery.cohort, day, plan.delivery.facilitator, plan.delivery_path.parent)
    path = Path(cwd) / "debriefs" / "undated" / f"{today.isoformat()}-{session.number:02d}.yaml"
    return DebriefTarget(path, "undated", today.isoformat(), "", Path(cwd))


ITEM_RE = re.compile(r"^(\s*)-(\s+)segment\s*:(.*)$")
TOP_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(.*)$")


def _yaml_value(rest: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(f"value: {rest}")["value"]
    except yaml.YAMLError:
        return None


def _top_key(lines: list[str], key: str) -> int | None:
    """The line of the top-level `key:`, if any."""
    for i, line in enumerate(lines):
        found = TOP_KEY_RE.match(line)
        if found and found.group(1) == key:
            return i
    return None


def _block_end(lines: list[str], i: int) -> int:
    """The line after the top-level key at `i` and its continuation (indented lines, a
    list's items, blank lines); a comment at the margin belongs to the next key."""
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t-"):
        j += 1
    return j


def fill_debrief(text: str, session: m.Session, started: dict[int, str], cuts: list[str],
                 ended: str | None, cut_names: dict[str, str]) -> str:
    """The debrief file `text` with `started:` set for the segments in `started` (index ->
    'HH:MM'), `cuts` added to `cuts_used` and `ended` set. Lines it does not change stay as
    they were (comments too). ValueError when the file's layout is not one it can edit."""
    from kit.scaffold import yaml_text

    lines = text.splitlines()
    titles = [s.title for s in session.segments]
    seg_key = _top_key(lines, "segments")
    if seg_key is None:
        lines.append("segments:")
        seg_key = len(lines) - 1
    rest = lines[seg_key].split(":", 1)[1].split("#", 1)[0].strip()
    if rest in ("[]", "~", "null"):
        lines[seg_key] = "segments:"
    elif rest:
        raise ValueError("'segments' is not a list of '- segment:' items")
    end = _block_end(lines, seg_key)
    items = []  # (line, indent of the keys, segment index)
    for i in range(seg_key + 1, end):
        match = ITEM_RE.match(lines[i])
        if match:
            title = _yaml_value(match.group(3))
            hit = m.matching_titles(titles, str(title)) if title is not None else []
            items.append((i, len(match.group(1)) + 1 + len(match.group(2)), hit[0] if hit else None))
    inserts: list[tuple[int, list[str]]] = []
    for index, when in sorted(started.items()):
        item = next((it for it in items if it[2] == index), None)
        if item is None:  # not in the file: before the first later segment, else after the last item
            later = [it for it in items if it[2] is not None and it[2] > index]
            at = later[0][0] if later else end
            pad = " " * (items[0][1] - 2 if items else 2)
            inserts.append((at, [f"{pad}- segment: {yaml_text(titles[index])}", f"{pad}  started: {yaml_text(when)}"]))
            continue
        first, indent, _ = item
        following = [it[0] for it in items if it[0] > first] + [end]
        stop = following[0]
        keys = {}
        for j in range(first + 1, stop):
            found = re.match(rf"^ {{{indent}}}([A-Za-z_]+)\s*:(.*)$", lines[j])
            if found:
                keys[found.group(1)] = j
        if "minutes" in keys and _yaml_value(lines[keys["minutes"]].split(":", 1)[1]) not in (None, ""):
            continue  # the facilitator wrote the minutes: theirs stand
        if "started" in keys:
            lines[keys["started"]] = f"{' ' * indent}started: {yaml_text(when)}"
        else:
            inserts.append((first + 1, [f"{' ' * indent}started: {yaml_text(when)}"]))
    for at, new in sorted(inserts, key=lambda x: -x[0]):
        lines[at:at] = new
    if ended is not None:
        key = _top_key(lines, "ended")
        if key is None:
            lines.append(f"ended: {yaml_text(ended)}")
        else:
            lines[key] = f"ended: {yaml_text(ended)}"
    if cuts:
        key = _top_key(lines, "cuts_used")
        existing: list = []
        if key is not None:
            stop = _block_end(lines, key)
            block = "\n".join([lines[key].split(":", 1)[1]] + lines[key + 1:stop])
            value = _yaml_value(block)
            if value not in (None, "") and not isinstance(value, list):
                raise ValueError("'cuts_used' is not a list")
            existing = list(value or [])
            del lines[key + 1:stop]
        named = {cut_names.get(str(c), str(c)) for c in existing}
        merged = existing + [c for c in cuts if cut_names.get(c, c) not in named]
        line = "cuts_used: [" + ", ".join(str(c) if re.fullmatch(r"C\d+", str(c)) else yaml_text(str(c))
                                          for c in merged) + "]"
        if key is None:
            lines.append(line)
        else:
            lines[key] = line
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Written:
    path: Path
    created: bool
    problems: tuple = ()   # why it was not written; empty when it was


def write_debrief(plan: Plan, target: DebriefTarget, started: dict[int, str], cuts: list[str],
                  ended: str | None) -> Written:
    """Fill the run's times and cuts into the debrief file (made from kit.debrief.prefill when
    absent), checked with load_debrief before it replaces the file."""
    from kit.debrief import cut_names, load_debrief, prefill
    from kit.parse import MAX_MODULE_BYTES  # the bound load_debrief reads it with
    from kit.safefs import ordinary_mode, read_bounded, real_folder, temporary

    path = target.path
    if not real_folder(path.parent, target.top):
        return Written(path, False, (f"{path.parent}: not a folder of its own below {target.top} "
                                     "(a link or a file is in the way)",))
    created = not path.exists()
    if created:
        text = prefill(plan.course, plan.session, plan.start_clock, target.cohort, target.date, target.facilitator)
    else:
        try:
            text = read_bounded(path, MAX_MODULE_BYTES).decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:  # safefs.Unsafe and TooLarge are OSErrors
            return Written(path, False, (f"{path}: cannot read it: {exc}",))
    try:
        text = fill_debrief(text, plan.session, started, cuts, ended, cut_names(plan.session))
    except ValueError as exc:
        return Written(path, False, (f"{path}: {exc}; the file was left as it was",))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        checked = Problems()
        loaded = load_debrief(tmp, tmp.parent, plan.kit, checked)
        if loaded is None or checked.errors:
            return Written(path, False, tuple(p.format().replace(tmp.name, path.name) for p in checked.errors))
        os.chmod(tmp, ordinary_mode())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Written(path, created)


# --- the run: state, clock, actions ------------------------------------------------------------

def clock_text(seconds: float) -> str:
    """4:05 or 1:04:05; negative as -0:30."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{sign}{rest // 60}:{rest % 60:02d}"


def session_clock_text(seconds: float) -> str:
    """0:23:30: hours first, as the plan's times (0:15–0:30) are written."""
    sign = "-" if seconds < 0 else ""
    whole = int(abs(seconds))
    return f"{sign}{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def delay_text(seconds: float) -> str:
    """'on time', '2 min behind', '3 min ahead', in the language `i18n.using` set."""
    minutes = int(abs(seconds) // 60)
    if minutes == 0:
        return _("on time")
    return (_("%(n)s min behind") if seconds > 0 else _("%(n)s min ahead")) % {"n": minutes}


class Run:
    """One session being run. Thread-safe. `now` gives the local time of day (a fake
    clock in tests); every figure the pages show is computed from it here."""

    ACTIONS = ("start", "pause", "next", "previous", "cut", "end", "pair")

    def __init__(self, plan: Plan, now: Clock | None = None, debrief: DebriefTarget | None = None,
                 log: Callable[[str], None] | None = None):
        self.plan = plan
        self.now: Clock = now or dt.datetime.now
        self.debrief = debrief
        self.log = log
        self.token = secrets.token_urlsafe(24)
        self._lock = threading.RLock()
        n = len(plan.segments)
        self.index = 0
        self.started: dt.datetime | None = None
        self.origin = 0.0                 # the session clock (seconds) at the start
        self.note = ""                    # how the clock was set, shown on the presenter
        self.paused_at: dt.datetime | None = None
        self.paused_total = 0.0
        self.seg_clock: list[float | None] = [None] * n   # session clock at each segment's start
        self.seg_wall: list[dt.datetime | None] = [None] * n
        self.cuts_used: list[int] = []    # numbers in the recovery plan, in the order marked
        self.ended: dt.datetime | None = None
        self.pair_origin: float | None = None  # session clock when the pair timer was restarted
        self.version = 0
        self.written: Written | None = None
        self._saved_version = -1

    # the clock

    def clock(self, now: dt.datetime | None = None) -> float:
        """Seconds on the session clock: from the planned start (a delivery's start time,
        when the session started within an hour of it) or else from the start; pauses
        do not count."""
        if self.started is None:
            return 0.0
        now = now or self.now()
        stop = self.ended or self.paused_at or now
        return self.origin + (stop - self.started).total_seconds() - self.paused_total

    def delay(self, now: dt.datetime | None = None) -> float:
        """Seconds behind the plan (negative: ahead): the current segment's actual start
        against its planned start, or, once it overruns, the clock against its planned end."""
        seg = self.plan.segments[self.index]
        began = self.seg_clock[self.index]
        if self.started is None or began is None:
            return 0.0
        return max(began - seg.start * 60, self.clock(now) - seg.end * 60)

    # actions

    def act(self, action: str, cut: int | None = None) -> None:
        """Apply an action; ValueError for an unknown one."""
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        with self._lock, i18n.using(self.plan.language):
            now = self.now()
            getattr(self, f"_{action}")(now, cut)
            self.version += 1
            if action == "end" and self.ended is not None:
                self.save()  # the debrief file, at once

    def _start(self, now: dt.datetime, _cut) -> None:
        if self.ended is not None:
            return
        if self.started is None:
            self.started = now
            self.origin = self._origin(now)
            self.seg_clock[self.index] = self.clock(now)
            self.seg_wall[self.index] = now
        elif self.paused_at is not None:
            self.paused_total += (now - self.paused_at).total_seconds()
            self.paused_at = None

    def _origin(self, now: dt.datetime) -> float:
        start = self.plan.start_clock
        if start is None:
            self.note = _("started at %(time)s; the clock counts from the start") % {"time": f"{now:%H:%M}"}
            return 0.0
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        late = (now - midnight).total_seconds() - start * 60
        if abs(late) <= LATE_START_LIMIT:
            self.note = _("planned start %(start)s, started at %(time)s") % {
                "start": m.wall_clock(start), "time": f"{now:%H:%M}"}
            return late
        self.note = _("started at %(time)s, far from the delivery's %(start)s: the clock counts from the start") % {
            "time": f"{now:%H:%M}", "start": m.wall_clock(start)}
        return 0.0

    def _pause(self, now: dt.datetime, _cut) -> None:
        if self.started is not None and self.paused_at is None and self.ended is None:
            self.paused_at = now

    def _next(self, now: dt.datetime, _cut) -> None:
        if self.started is None:
            return self._start(now, None)
        if self.ended is not None or self.index + 1 >= len(self.plan.segments):
            return
        self.index += 1
        self.seg_clock[self.index] = self.clock(now)
        self.seg_wall[self.index] = now
        self.pair_origin = None

    def _previous(self, now: dt.datetime, _cut) -> None:
        if self.ended is not None:  # back into the session from its end
            self.ended = None
            return
        if self.index == 0:
            return
        self.seg_clock[self.index] = None  # a slip of the finger: that segment has not begun
        self.seg_wall[self.index] = None
        self.index -= 1
        self.pair_origin = None

    def _cut(self, now: dt.datetime, cut: int | None) -> None:
        numbers = [c.number for c in self.plan.cuts]
        if cut not in numbers:
            raise ValueError(f"no cut C{cut}: the recovery plan has " +
                             (", ".join(c.label for c in self.plan.cuts) or "none"))
        if cut in self.cuts_used:
            self.cuts_used.remove(cut)
        else:
            self.cuts_used.append(cut)

    def _end(self, now: dt.datetime, _cut) -> None:
        if self.started is None or self.ended is not None:
            return
        if self.paused_at is not None:
            self.paused_total += (now - self.paused_at).total_seconds()
            self.paused_at = None
        self.ended = now

    def _pair(self, now: dt.datetime, _cut) -> None:
        if self.started is not None and self.plan.segments[self.index].timer is not None:
            self.pair_origin = self.clock(now)

    # the debrief

    def record(self) -> tuple[dict[int, str], list[str], str | None]:
        """What the debrief file gets: each reached segment's start, the cuts, the end."""
        with self._lock:
            started = {i: f"{when:%H:%M}" for i, when in enumerate(self.seg_wall) if when is not None}
            cuts = [c.label for c in self.plan.cuts if c.number in self.cuts_used]
            last = self.index == len(self.plan.segments) - 1
            ended = self.ended or (self.now() if last and self.started is not None else None)
            return started, cuts, (f"{ended:%H:%M}" if ended else None)

    def save(self) -> Written | None:
        """Write the debrief file, once the session has started and when anything changed."""
        with self._lock:
            if self.debrief is None or self.started is None or self._saved_version == self.version:
                return self.written
            started, cuts, ended = self.record()
            self.written = write_debrief(self.plan, self.debrief, started, cuts, ended)
            self._saved_version = self.version
            if self.log:
                if self.written.problems:
                    self.log("the debrief file was not written: " + "; ".join(self.written.problems))
                    self.log("the times were: " + ", ".join(
                        f"{self.plan.segments[i].title} {t}" for i, t in started.items())
                        + (f"; ended {ended}" if ended else "") + (f"; cuts used {', '.join(cuts)}" if cuts else ""))
                else:
                    self.log(f"{'wrote' if self.written.created else 'updated'} {self.written.path}")
            return self.written

    # what the pages show

    def status(self) -> str:
        if self.started is None:
            return "waiting"
        if self.ended is not None:
            return "ended"
        return "paused" if self.paused_at is not None else "running"

    def _timer(self, now: dt.datetime, room: bool) -> dict | None:
        seg = self.plan.segments[self.index]
        timer = seg.timer
        began = self.seg_clock[self.index]
        if timer is None or began is None or self.ended is not None:
            return None
        origin = self.pair_origin if self.pair_origin is not None else began + timer.offset
        t = self.clock(now) - origin
        phases = timer.phases
        out: dict[str, Any] = {"plan": timer.plan, "phase": "", "key": "", "left": "", "turn": "", "call": "",
                               "next": "", "done": False}
        if not phases:
            return out if not room else None
        if t < 0:
            out.update(phase=_("Pair flip starts in"), key="before", left=clock_text(-t))
            return out
        current = next((p for p in phases if p.start <= t < p.end), None)
        if current is None:
            out.update(phase=_("Pair flip done"), key="done", done=True)
            return out
        out.update(phase=current.label, key=current.key, left=clock_text(current.end - t), turn=current.turn,
                   progress=(t - current.start) / current.seconds if current.seconds else 1)
        if current.call and t - current.start < CALL_SECONDS:
            out["call"] = current.call
        upcoming = next((p for p in phases if p.start >= current.end and p.call), None)
        if upcoming is not None:
            out["next"] = _("call “%(call)s” in %(time)s") % {"call": upcoming.call,
                                                              "time": clock_text(upcoming.start - t)}
        if room:
            out.pop("plan")
            out.pop("next")
        return out

    def projector_state(self) -> dict:
        """What the room's screen shows: participant material only."""
        with self._lock, i18n.using(self.plan.language):
            now = self.now()
            status = self.status()
            if status == "waiting":
                body, key = self.plan.welcome_html, "welcome"
            elif status == "ended":
                body, key = self.plan.end_html, "end"
            else:
                body, key = self.plan.segments[self.index].projector_html, f"segment-{self.index}"
            return {"status": status, "screen": key, "html": body,
                    "index": self.index, "count": len(self.plan.segments),
                    "session": _("Session %(number)s · %(title)s") % {"number": self.plan.session.number,
                                                                       "title": self.plan.session.title},
                    "timer": self._timer(now, room=True) if status in ("running", "paused") else None}

    def presenter_state(self) -> dict:
        with self._lock, i18n.using(self.plan.language):
            now = self.now()
            plan = self.plan
            seg = plan.segments[self.index]
            status = self.status()
            clock = self.clock(now)
            began = self.seg_clock[self.index]
            in_seg = clock - began if began is not None else 0.0
            delay = self.delay(now)
            moment = int(clock // 60)
            ahead = views.recoverable(plan.session, moment)[1]
            open_srcs = {c.src for c in ahead}
            cuts = [{"number": c.number, "label": c.label, "title": c.title, "saves": c.saves,
                     "decide": c.decide, "segment": c.segment, "used": c.number in self.cuts_used,
                     "open": c.src in open_srcs} for c in plan.cuts]
            offered = [c for c in cuts if c["open"] and not c["used"]] if delay >= 60 else []
            pending = sum(c.saves for c in plan.cuts if c.number in self.cuts_used
                          and self._segment_of(c) >= self.index)
            after = delay - pending * 60
            nxt = plan.segments[self.index + 1] if self.index + 1 < len(plan.segments) else None
            return {
                "status": status, "version": self.version, "index": self.index, "count": len(plan.segments),
                "now": f"{now:%H:%M:%S}",
                "clock": session_clock_text(clock) if self.started is not None else "",
                "note": self.note,
                "segment": {"title": seg.title, "kind": seg.kind, "kind_word": i18n.kind_word(seg.kind),
                            "span": seg.span, "minutes": seg.minutes, "html": seg.presenter_html},
                "in_segment": clock_text(in_seg) if began is not None else "",
                "left": clock_text(seg.minutes * 60 - in_seg) if began is not None else "",
                "over": began is not None and in_seg > seg.minutes * 60,
                "progress": min(1.0, in_seg / (seg.minutes * 60)) if began is not None and seg.minutes else 0,
                "delay": round(delay),
                "delay_text": delay_text(delay) if self.started is not None else _("not started"),
                "tone": ("behind" if delay >= 60 else "ahead" if delay <= -60 else "on") if self.started else "",
                "after_cuts": delay_text(after) if pending and self.started is not None else "",
                "cuts": cuts, "offered": offered,
                "offered_minutes": sum(c["saves"] for c in offered),
                "next": ({"title": nxt.title, "at": nxt.at, "minutes": nxt.minutes, "say": nxt.say}
                         if nxt is not None else None),
                "timer": self._timer(now, room=False) if status in ("running", "paused") else None,
                "debrief": (str(self.debrief.path) if self.debrief else ""),
                "written": ((_("not written: %(why)s") % {"why": "; ".join(self.written.problems)})
                            if self.written and self.written.problems
                            else _("written to %(path)s") % {"path": self.written.path} if self.written else ""),
            }

    def _segment_of(self, cut: views.PlannedCut) -> int:
        session = self.plan.session
        return next((i for i in range(len(session.segments)) if views.segment_anchor(session, i) == cut.anchor), -1)


# --- the HTTP layer: kit.preview's, with two pages, a state and one action endpoint -----------

def _read_template(name: str) -> str:
    from kit.paths import bundled_templates

    return (bundled_templates() / name).read_text(encoding="utf-8")


class _RunHandler(LocalHandler):
    server_version = "kit-run"
    run: Run
    files: Preview
    pages: dict[str, tuple[str, str]]   # path -> (content type, text) for the fixed files

    def _reply(self, status: int, body: bytes, content_type: str, head: bool = False, page: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if page:
            self.send_header("Content-Security-Policy", PAGE_POLICY)
            self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, data: dict, status: int = 200, head: bool = False) -> None:
        self._reply(status, json.dumps(data).encode("utf-8"), "application/json", head)

    def _refuse(self, status: int, why: str, head: bool = False) -> None:
        if self.log:
            self.log(f"refused {self.command} {self.path}: {why}")
        self.close_connection = True
        self._reply(status, b"", "text/plain; charset=utf-8", head)

    def _token_ok(self) -> bool:
        given = self.headers.get_all(TOKEN_HEADER) or []
        return len(given) == 1 and hmac.compare_digest(given[0].encode(), self.run.token.encode())

    def _origin_ok(self) -> bool:
        """No Origin (not a browser), or this server's own; a browser's cross-site request
        always carries its page's origin."""
        origins = self.headers.get_all("Origin") or []
        if not origins:
            return self.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
        port = self.server.server_address[1]  # type: ignore[index]  # an (address, port) pair here
        return len(origins) == 1 and origins[0].strip().lower() in {f"http://{h}:{port}" for h in LOCAL_HOSTS}

    def do_GET(self, head: bool = False) -> None:  # noqa: N802
        if not self._addressed_here():
            return self._refuse(421, f"another host: {self.headers.get('Host')!r}", head)
        path = unquote(urlsplit(self.path).path)
        if path in self.pages:
            kind, text = self.pages[path]
            return self._reply(200, text.encode("utf-8"), kind, head, page=kind.startswith("text/html"))
        if path == "/state/projector":
            return self._json(self.run.projector_state(), head=head)
        if path == "/state/presenter":
            if not self._token_ok():
                return self._refuse(403, "no or a wrong token", head)
            return self._json(self.run.presenter_state(), head=head)
        if path.startswith(FILES):
            target = self.files.resource(path[len(FILES):])
            if target is not None:
                return self._send_file(target, head)
        self._reply(404, b"not found\n", "text/plain; charset=utf-8", head)

    def do_POST(self) -> None:  # noqa: N802
        if not self._addressed_here():
            return self._refuse(421, f"another host: {self.headers.get('Host')!r}")
        if urlsplit(self.path).path != "/action":
            return self._refuse(404, "no such endpoint")
        if not self._origin_ok():
            return self._refuse(403, f"another origin: {self.headers.get('Origin')!r}")
        if not self._token_ok():
            return self._refuse(403, "no or a wrong token")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return self._refuse(415, "not JSON")
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            return self._refuse(411, "no length")
        if not 0 < length <= MAX_ACTION_BYTES:
            return self._refuse(413, f"{length} bytes")
        try:
            data = json.loads(self.rfile.read(length))
            action = data["action"]
            cut = data.get("cut")
            if not isinstance(action, str) or (cut is not None and (type(cut) is not int)):
                raise ValueError("bad types")
            self.run.act(action, cut)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return self._json({"error": str(exc)}, 400)
        if self.log:
            self.log(f"{action}{f' C{cut}' if cut is not None else ''}")
        self._json(self.run.presenter_state())


def page_words() -> dict[str, Any]:
    """The words run.js writes into the pages, in the language `i18n.using` set: the page
    carries them as JSON in a meta element (WORDS_META), so the script holds no word of
    its own. Placeholders are gettext's %(name)s, which run.js fills in."""
    return {
        "status": {"waiting": _("Not started: press S"), "running": _("Running"), "paused": _("Paused"),
                   "ended": _("Ended")},
        "toggle": {"start": _("Start"), "pause": _("Pause"), "resume": _("Resume")},
        # what the room's screen calls each phase of a pair flip's timer ("" : no timer shown)
        "room": {"setup": _("Find a partner"), "a": _("Turn 1"), "b": _("Turn 2: swap roles"),
                 "turn": _("Your turn"), "debrief": _("Debrief"), "before": _("Pair flip in"), "done": ""},
        "paused_phase": _("%(phase)s (paused)"),
        "call": _("Call “%(call)s”"),
        "position": _("Segment %(number)s of %(count)s"),
        "minutes_kind": _("%(n)s min · %(kind)s"),
        "in_segment": _("%(time)s in this segment"),
        "over": _("%(time)s over its time"),
        "left": _("%(time)s left"),
        "next_when": _("planned %(time)s · %(n)s min"),
        # translators: the next segment's say line, in the language's quotation marks
        "quoted": _("“%(text)s”"),
        "debrief_goes": _("The debrief file goes to %(path)s when the session ends."),
        "saves": _("saves %(n)s min"),
        "used": _("used · %(segment)s"),
        "decide_by": _("decide by %(time)s · %(segment)s"),
        "too_late": _("too late · %(segment)s"),
        "recovery_plan": _("Recovery plan"),
        "no_cuts": _("This session has no cuts."),
        "behind_heading": _("Behind: cuts still available"),
        "would_save": _("%(cuts)s would save %(n)s min. Press a cut's number to mark it as used."),
        "none_left": _("No cut is left to decide: shorten the discussion or the floor."),
        "offered_later": _("Cuts are offered here when the session runs behind."),
        "on_plan": _("On plan: no cut needed. Press a cut's number to mark it as used."),
        "after_cuts": _("With the cuts you marked: %(delay)s"),
        "press_again": _("Press E again to end the session."),
        "confirm_end": _("End the session and write the debrief file?"),
    }


def _pages(run: Run) -> dict[str, tuple[str, str]]:
    """The fixed pages, rendered once in the run's language with the kit's template
    environment (kit.render), as `kit build` renders the guide."""
    from kit.render import environment, render_template

    plan = run.plan
    env = environment(plan.root, plan.language)
    with i18n.using(plan.language):
        title = f"{plan.session.number}. {plan.session.title}"
        values = {"title": title, "course": plan.course.title, "token": run.token, "poll": POLL_MS,
                  "lang": plan.language, "words": json.dumps(page_words(), ensure_ascii=False),
                  "words_meta": WORDS_META}
        presenter = render_template(env, "run-presenter.html", **values)
        projector = render_template(env, "run-projector.html", **values)
        opening = _("Open <a href=\"/presenter\">the presenter view</a> on your laptop and "
                    "<a href=\"/projector\">the projector view</a> on the screen the room sees.")
        head = _e(_("kit run: %(title)s") % {"title": title})
        index = (f'<!doctype html>\n<html lang="{_e(plan.language)}"><head><meta charset="utf-8">'
                 f'<title>{head}</title><link rel="stylesheet" href="/run.css"></head><body class="index"><main>'
                 f"<h1>{_e(title)}</h1><p>{opening}</p></main></body></html>\n")
    return {"/": ("text/html; charset=utf-8", index),
            "/presenter": ("text/html; charset=utf-8", presenter),
            "/projector": ("text/html; charset=utf-8", projector),
            "/run.css": ("text/css; charset=utf-8", _read_template("run.css")),
            "/run.js": ("text/javascript; charset=utf-8", _read_template("run.js"))}


class RunServer:
    """The run's HTTP server in a background thread. `start()` returns once it listens;
    `stop()` ends it and writes the debrief file (when the session started)."""

    def __init__(self, run: Run, port: int = DEFAULT_PORT, log: Callable[[str], None] | None = None):
        self.run = run
        self.port = port
        self.log = log
        self._httpd: LocalServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the run server is not started")
        return f"http://{HOST}:{self._httpd.server_address[1]}/"

    def start(self) -> RunServer:
        handler = type("Handler", (_RunHandler,), {
            "run": self.run, "files": Preview(self.run.plan.root), "pages": _pages(self.run),
            "log": staticmethod(self.log) if self.log else None})
        try:
            self._httpd = LocalServer((HOST, self.port), handler)
        except OSError as exc:
            raise KitError(f"cannot listen on {HOST}:{self.port}: {exc.strerror or exc}; "
                           "choose another port with --port (0 picks a free one)") from None
        self._httpd.log = self.log
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="kit-run-http", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)
        self.run.save()

    def __enter__(self) -> RunServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Served:
    """What `serve` reports once it listens."""
    presenter: str
    projector: str
    debrief: Path | None
    plan: Plan = field(repr=False)


def serve(root: Path, session_ref: str, course: str | None = None, delivery: Path | None = None,
          port: int = DEFAULT_PORT, ready: Callable[[Served], None] | None = None,
          log: Callable[[str], None] | None = None, debrief: bool = True, cwd: Path | None = None) -> Written | None:
    """Run a session until interrupted; the debrief file is written on the way out.
    Returns what was written (None when nothing was)."""
    plan = load_plan(root, session_ref, course, delivery)
    target = debrief_target(plan, cwd or Path.cwd(), dt.date.today()) if debrief else None
    run = Run(plan, debrief=target, log=log)
    server = RunServer(run, port, log).start()
    try:
        if ready is not None:
            ready(Served(server.url + "presenter", server.url + "projector", target.path if target else None, plan))
        server.wait()
    finally:
        server.stop()
    return run.written
