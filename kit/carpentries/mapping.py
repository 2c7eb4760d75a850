"""A lesson (kit.carpentries.lesson) as a kit: sessions, segments and blocks, as text.

The rules, which README.md's "Import a Carpentries lesson" states as a table:

- each episode's `##` sections become segments, between an opening (its questions and
  objectives) and a closing (its key points);
- its `teaching:` minutes are shared out as follows: the opening and the closing take
  one minute in twenty of them each (at least one), the sections the rest in proportion
  to their words; its `exercises:` minutes go to the sections that hold challenges, in
  proportion to their number of challenges (to every section by words when it has none).
  Shares are rounded by largest remainder, so that they add up exactly, and every segment
  gets at least a minute (when an episode has fewer minutes than sections, neighbouring
  sections are merged first);
- episodes are packed in order into sessions of at most `session_minutes`; `start: true`
  begins a new session; an episode longer than a session is split at its sections;
- a challenge is a prompt whose answer holds all its solutions in order; a discussion is a
  question to the room; instructor divs are facilitator notes; other divs are notes (a
  testimonial an anecdote), reported once per kind as lossy.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from kit.carpentries.lesson import Aside, Episode, Exercise, Item, Lesson, Page, Prose, Where
from kit.errors import Problems
from kit.fences import CodeFences

MAX_TITLE = 150
FEW_LINES, MOST_LINES = 4, 20  # a prompt's ruled lines on the worksheet
CHARS_PER_LINE = 90            # what one ruled line of the answer key holds (kit.kinds.PromptKind)
DATA_RE = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+\.(?:zip|tar\.gz|tgz|tar|gz|csv|tsv|xlsx?|json|sqlite|db))\)",
                     re.IGNORECASE)
LOSSY = {
    "callout": "facilitator notes, printed in the guide but not on the worksheets",
    "prereq": "facilitator notes, printed in the guide but not on the worksheets",
    "checklist": "facilitator notes, printed in the guide but not on the worksheets",
    "spoiler": "facilitator notes, printed in full (not folded away)",
    "caution": "facilitator notes, printed in the guide but not on the worksheets",
    "testimonial": "anecdotes, without a point or a source of their own",
    "discussion": "questions to the room, in the guide but not on the worksheets",
    "hint": "outside a challenge, as facilitator notes",
    "solution": "outside a challenge, as facilitator notes (never on a worksheet)",
}


@dataclass
class Segment:
    title: str
    kind: str
    minutes: int
    items: list   # lesson items, and ('list', label, entries) for questions and key points
    where: Where
    challenges: int = 0
    words: int = 0


@dataclass
class Part:
    episode: Episode
    segments: list
    index: int = 1
    count: int = 1

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.segments)

    @property
    def title(self) -> str:
        if self.count == 1:
            return self.episode.title
        return f"{self.episode.title} (part {self.index} of {self.count})"


@dataclass
class Session:
    number: int
    parts: list = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return sum(p.minutes for p in self.parts)

    @property
    def title(self) -> str:
        titles = list(dict.fromkeys(p.title for p in self.parts))
        joined = "; ".join(titles)
        if len(joined) > MAX_TITLE:
            joined = f"{titles[0]} to {titles[-1]}"
        if len(joined) > MAX_TITLE:
            joined = f"{titles[0]} and {len(titles) - 1} more"
        return short(joined)


@dataclass
class Plan:
    """The kit to write, and what was imported."""
    files: dict                 # kit-relative path -> text
    course: str                 # the course's folder name
    sessions: list
    counts: dict


def short(text: str, most: int = MAX_TITLE) -> str:
    """A title as the kit prints it: plain text (a title is not Markdown, so the backticks
    and bold marks lessons put in them would print as they are), on one line, bounded."""
    text = text.replace("`", "").replace("**", "")
    text = " ".join(text.replace("{", "(").replace("}", ")").split())
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def apportion(total: int, weights: list[float]) -> list[int]:
    """`total` shared in proportion to `weights`, rounded by largest remainder: the
    shares add up to `total` exactly."""
    if not weights:
        return []
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1.0] * len(weights), float(len(weights))
    exact = [total * w / whole for w in weights]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _has_code(items: list) -> bool:
    return any(isinstance(i, Prose) and ("```" in i.text or "~~~" in i.text) for i in items)


def episode_segments(ep: Episode, problems: Problems) -> list[Segment]:
    """The episode's segments with their minutes (see the module's docstring)."""
    groups = [Segment(s.title or ep.title, "", 0, list(s.items), s.where, s.exercises, s.words + 1)
              for s in ep.sections if s.items]
    if ep.break_minutes and not ep.teaching and not ep.exercises:  # a break, such as lunch
        items = [item for g in groups for item in g.items]
        return [Segment(short(ep.title), "break", ep.break_minutes, items, ep.where)]
    if not groups and not ep.questions and not ep.keypoints:
        return [Segment(short(ep.title), "discussion", max(ep.minutes, 1), [], ep.where)]
    teaching, exercises = ep.teaching, ep.exercises + ep.break_minutes
    if teaching + exercises == 0:
        teaching = 5 * max(len(groups), 1)
        problems.warning(ep.source, 1, f"the episode gives no minutes: counted as {teaching} "
                                       "(5 a section); add 'teaching:' and 'exercises:'")
    opening = [("list", "Questions", ep.questions)] if ep.questions else []
    if ep.objectives:
        opening.append(("list", "Objectives", ep.objectives))
    closing = [("list", "Key points", ep.keypoints)] if ep.keypoints else []
    budget = teaching + exercises
    if not groups:
        groups = [Segment(ep.title, "", 0, [], ep.where, 0, 1)]
    if len(groups) + bool(opening) + bool(closing) > budget:  # too few minutes: fewer segments
        groups[0].items[:0] = opening
        groups[-1].items.extend(closing)
        opening, closing = [], []
        while len(groups) > max(budget, 1):
            pair = min(range(len(groups) - 1), key=lambda i: groups[i].words + groups[i + 1].words)
            first, second = groups[pair], groups.pop(pair + 1)
            first.title = short(f"{first.title}; {second.title}")
            first.items.extend(second.items)
            first.challenges += second.challenges
            first.words += second.words
    ends = bool(opening) + bool(closing)
    each = max(1, teaching // 20) if ends else 0
    if teaching >= ends * each:
        teaching -= ends * each
    else:  # fewer teaching minutes than the opening and closing need: take them from the exercises
        exercises -= ends * each - teaching
        teaching = 0
    shares = apportion(teaching, [g.words for g in groups])
    if any(g.challenges for g in groups):
        extra = apportion(exercises, [g.challenges for g in groups])
    else:
        extra = apportion(exercises, [g.words for g in groups])
    for group, a, b in zip(groups, shares, extra):
        group.minutes = a + b
    while any(g.minutes == 0 for g in groups):  # every segment at least a minute
        empty = next(g for g in groups if g.minutes == 0)
        max(groups, key=lambda g: g.minutes).minutes -= 1
        empty.minutes = 1
    for group in groups:
        group.kind = "activity" if group.challenges else "demo" if _has_code(group.items) else "discussion"
    out = []
    if opening:
        out.append(Segment(short(f"Opening: {ep.title}"), "opening", each, opening, ep.where))
    out.extend(groups)
    if closing:
        out.append(Segment(short(f"Key points: {ep.title}"), "wrap-up", each, closing, ep.where))
    return out


def plan_sessions(lesson: Lesson, session_minutes: int, problems: Problems) -> list[Session]:
    """Episodes packed into sessions, in order (see the module's docstring)."""
    parts: list[Part] = []
    for ep in lesson.episodes:
        segments = episode_segments(ep, problems)
        if sum(s.minutes for s in segments) <= session_minutes:
            parts.append(Part(ep, segments))
            continue
        chunks: list[list[Segment]] = [[]]
        for segment in segments:
            if chunks[-1] and sum(s.minutes for s in chunks[-1]) + segment.minutes > session_minutes:
                chunks.append([])
            chunks[-1].append(segment)
            if segment.minutes > session_minutes:
                problems.warning(ep.source, segment.where.line,
                                 f"the section '{segment.title}' alone takes {segment.minutes} minutes, more than "
                                 f"a session of {session_minutes}: its session is longer")
        for index, chunk in enumerate(chunks, 1):
            parts.append(Part(ep, chunk, index, len(chunks)))
    sessions: list[Session] = []
    for part in parts:
        fresh = not sessions or (part.index == 1 and part.episode.start) or \
            sessions[-1].minutes + part.minutes > session_minutes
        if fresh:
            sessions.append(Session(len(sessions) + 1))
        sessions[-1].parts.append(part)
    return sessions


# --- writing the modules -------------------------------------------------------------

def yaml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def yaml_list(key: str, values) -> str:
    values = list(dict.fromkeys(v for v in values if v.strip()))
    if not values:
        return f"{key}: []\n"
    return f"{key}:\n" + "".join(f"  - {yaml_text(v)}\n" for v in values)


def balanced(text: str) -> str:
    """`text` with its fenced code closed, so that no fence of ours falls inside code."""
    fences = CodeFences()
    for line in text.split("\n"):
        fences.code(line)
    return text + ("\n" + fences.fence if fences.fence else "")


def block(kind: str, title: str, body: str, fields: str = "", colons: int = 3) -> str:
    fence = ":" * colons
    head = f"{fence} {kind} {short(title)}".rstrip()
    return f"{head}\n{fields}\n{body.strip()}\n{fence}\n"


def answer_text(solutions: tuple[str, ...]) -> str:
    if len(solutions) == 1:
        return solutions[0]
    return "\n\n".join(f"**Solution {i}**\n\n{s}" for i, s in enumerate(solutions, 1))


class Writer:
    """Writes the modules' Markdown, counting what it imports."""

    def __init__(self, problems: Problems):
        self.problems = problems
        self.counts = {"prompts": 0, "answers": 0, "notes": 0, "asks": 0, "asides": 0}
        self.lossy: dict[str, tuple[int, Where]] = {}

    def lost(self, kind: str, where: Where) -> None:
        count, first = self.lossy.get(kind, (0, where))
        self.lossy[kind] = (count + 1, first)

    def report_lossy(self) -> None:
        for kind, (count, where) in sorted(self.lossy.items()):
            plural = "s" if count > 1 else ""
            self.problems.warning(where.path, where.line, f"{count} '{kind}' div{plural} imported: {LOSSY[kind]}"
                                  + (" (this is the first)" if count > 1 else ""))

    def item(self, item) -> str:
        if isinstance(item, tuple):
            _, label, entries = item
            return f"**{label}**\n\n" + "".join(f"- {e}\n" for e in entries)
        if isinstance(item, Prose):
            return balanced(item.text) + "\n"
        if isinstance(item, Exercise):
            return self.exercise(item)
        return self.aside(item)

    def exercise(self, ex: Exercise) -> str:
        text = ex.text.strip() or ex.title
        out = []
        answer = answer_text(ex.solutions) if ex.solutions else ""
        self.counts["answers"] += len(ex.solutions)
        if ex.kind == "discussion":
            self.lost("discussion", ex.where)
            self.counts["asks"] += 1
            inner = "\n" + block("answer", "", balanced(answer)) if answer else ""
            out.append(block("ask", ex.title, balanced(text) + "\n" + inner, colons=4 if inner else 3))
        else:
            self.counts["prompts"] += 1
            need = math.ceil(len(" ".join(answer.split())) / CHARS_PER_LINE) + 1
            lines = min(MOST_LINES, max(FEW_LINES, need))
            inner = "\n" + block("answer", "", balanced(answer)) if answer else ""
            out.append(block("prompt", ex.title, balanced(text) + "\n" + inner, f"lines: {lines}\n", colons=4))
        for note in ex.notes:
            self.counts["notes"] += 1
            out.append(block("note", "Instructor note", balanced(note)))
        return "\n".join(out)

    def aside(self, aside: Aside) -> str:
        body = balanced(aside.text.strip() or aside.title)
        if aside.kind == "instructor":
            self.counts["notes"] += 1
            title = aside.title if aside.title != "Instructor note" else "Instructor note"
            return block("note", title, body)
        self.counts["asides"] += 1
        if aside.kind in LOSSY:
            self.lost(aside.kind, aside.where)
        if aside.kind == "testimonial":
            fields = f"source: {yaml_text(f'a testimonial in the lesson ({aside.where.path})')}\n"
            return block("anecdote", aside.title, body, fields)
        return block("note", aside.title, body)

    def segment(self, seg: Segment) -> str:
        head = f"## {short(seg.title) or 'Part'} {{minutes={seg.minutes} kind={seg.kind}}}\n"
        parts = [self.item(item) for item in seg.items]
        if seg.kind == "break" and not parts:
            parts = ["A break, as the lesson's schedule has it.\n"]
        return head + "".join("\n" + p for p in parts)

    def module(self, lesson: Lesson, session: Session, front_extra: str) -> str:
        objectives = first_page([p.episode.objectives for p in session.parts if p.index == 1])
        questions = first_page([p.episode.questions for p in session.parts if p.index == 1])
        front = (f"---\ntitle: {yaml_text(session.title)}\nminutes: {session.minutes}\n"
                 + yaml_list("objectives", objectives) + yaml_list("think_about", questions) + front_extra + "---\n")
        lines = [f"From the lesson *{lesson.title}* ({lesson.carpentry}):", ""]
        for part in session.parts:
            ep = part.episode
            where = f" (part {part.index} of {part.count})" if part.count > 1 else ""
            lines.append(f"- *{ep.title}*{where}, from `{ep.source}`: {ep.teaching} minutes of teaching, "
                         f"{ep.exercises} of exercises" + (f", a {ep.break_minutes}-minute break" if ep.break_minutes
                                                           else "") + ".")
        if any(p.episode.rmd for p in session.parts):
            lines += ["", "This session comes from R Markdown. Its R code chunks are printed as code and were "
                          "not run (kit runs no R), so their output is not shown: run them before class to see it."]
        body = "\n".join(lines) + "\n"
        for part in session.parts:
            for seg in part.segments:
                body += "\n" + self.segment(seg)
        return front + body


def first_page(lists: list[tuple[str, ...]], most: int = 8) -> list[str]:
    """What a session's first page lists of several episodes' objectives or questions: all of
    them when they fit, else the first of each episode (each opening segment lists them all)."""
    every = [entry for entries in lists for entry in entries]
    if len(every) <= most:
        return every
    return [entries[0] for entries in lists if entries][:12]


def page_markdown(page: Page) -> str:
    """A setup or instructor-notes page as one stretch of Markdown for the introduction."""
    out = []
    for section in page.sections:
        if section.title:
            out.append(f"### {short(section.title)}\n")
        for item in section.items:
            out.append(_page_item(item))
    return "\n".join(out)


def _page_item(item: Item) -> str:
    if isinstance(item, Prose):
        return balanced(item.text) + "\n"
    if isinstance(item, Exercise):
        text = f"**{item.title}**\n\n{item.text}\n"
        for number, solution in enumerate(item.solutions, 1):
            text += f"\n*Solution {number}:*\n\n{balanced(solution)}\n"
        return text
    return f"**{item.title}**\n\n{balanced(item.text)}\n"


def setup_prework(lesson: Lesson) -> tuple[str, list[str]]:
    """The first session's pre-work (front matter lines) and materials, from the setup page."""
    items: list[dict] = []
    materials = ["A computer for each participant, set up as the lesson's setup instructions say "
                 "(in this guide's introduction)"]
    if lesson.url:
        page = "index.html#setup" if lesson.source_format == "workbench" else "setup.html"
        items.append({"title": f"Set up your computer for {lesson.title}", "url": f"{lesson.url.rstrip('/')}/{page}",
                      "minutes": 30, "kind": "exercise", "estimate": True})
    if lesson.setup is not None:
        seen = set()
        for item in lesson.setup.items:
            for match in DATA_RE.finditer(getattr(item, "text", "")):
                url = match.group(2)
                if url in seen:
                    continue
                seen.add(url)
                name = " ".join(match.group(1).replace("*", "").replace("`", "").split())
                items.append({"title": f"Download {name}", "url": url, "minutes": 5, "kind": "exercise",
                              "estimate": True})
                materials.append(f"The lesson's data, {name}, downloaded and unpacked on each computer")
    if not items:
        return "", materials
    text = "prework:\n"
    for entry in items[:30]:
        text += (f"  - title: {yaml_text(short(entry['title']))}\n    url: {yaml_text(entry['url'])}\n"
                 f"    minutes: {entry['minutes']}\n    kind: {entry['kind']}\n    estimate: true\n")
    return text, materials


COURSE_TEMPLATE = """\
# Made by `kit import carpentries` from the lesson "{plain_title}". Every key is explained
# in kit's README.md; edit freely (a new import into this folder replaces these files).
title: {title}
subtitle: {subtitle}
audience: {audience}
language: {language}
session_minutes: {minutes}
# No cuts come with an imported lesson: the recovery check is off until you write some.
recovery_minutes: 0
organisation:
  name: {organisation}
  about: {about}
  fictional: false
  products: []
moves:
  silence: {silence}
"""


def introduction(lesson: Lesson, session_minutes: int) -> str:
    where = f" ({lesson.url})" if lesson.url else ""
    text = (f"## About this kit\n\nThis kit was made by `kit import carpentries` from *{lesson.title}*{where}, "
            f"a lesson of {lesson.carpentry}, licensed CC BY 4.0 by its authors. Each session packs one or more "
            f"episodes into at most {session_minutes} minutes. The lesson's text is each segment's talking points "
            "(live-code it as the lesson does); its challenges are the worksheet's prompts, and their solutions "
            "are printed in this guide only, never on a worksheet. The minutes of each segment come from the "
            "episode's teaching and exercise times; adjust them to your group.\n")
    if any(ep.rmd for ep in lesson.episodes):
        text += ("\nSome episodes are R Markdown: their R code is printed as code and was not run, so the "
                 "output R would print is not shown.\n")
    if lesson.setup is not None and lesson.setup.sections:
        text += "\n## Setup\n\nWhat participants install and download before the first session (from the " \
                f"lesson's `{lesson.setup.source}`).\n\n" + page_markdown(lesson.setup)
    if lesson.instructor_notes is not None and lesson.instructor_notes.sections:
        text += f"\n## Instructor notes\n\nFrom the lesson's `{lesson.instructor_notes.source}`.\n\n" \
                + page_markdown(lesson.instructor_notes)
    return text


def course_yaml(lesson: Lesson, session_minutes: int, language: str) -> str:
    return COURSE_TEMPLATE.format(
        plain_title=lesson.title.replace("\n", " "), title=yaml_text(lesson.title),
        subtitle=yaml_text(f"A {lesson.carpentry} lesson, imported for print"),
        audience=yaml_text(f"Learners of the lesson \"{lesson.title}\": see its setup and prerequisites "
                           "in the introduction."),
        language=language, minutes=session_minutes, organisation=yaml_text(lesson.carpentry),
        about=yaml_text(f"{lesson.carpentry} teaches foundational coding and data science skills to "
                        "researchers; this lesson is one of its open lessons."),
        silence=yaml_text("Ask learners to try it in pairs for a minute, then ask a pair what they found; "
                          "use the sticky notes the way the lesson does."))


def course_slug(title: str) -> str:
    from kit.scaffold import slugify

    slug = slugify(title)
    if len(slug) > 40:  # cut between words
        slug = slug[:41].rsplit("-", 1)[0]
    return slug.strip("-") or "lesson"


def plan_kit(lesson: Lesson, session_minutes: int, problems: Problems, language: str = "en") -> Plan:
    """Every file of the kit (but the figures) as text, and what was imported."""
    course = course_slug(lesson.title)
    sessions = plan_sessions(lesson, session_minutes, problems)
    writer = Writer(problems)
    prework, materials = setup_prework(lesson)
    files: dict[str, str] = {}
    folder = f"content/{course}"
    for session in sessions:
        extra = ""
        if session.number == 1:
            extra = prework + yaml_list("materials", materials)
        slug = course_slug(session.parts[0].episode.title)
        files[f"{folder}/{session.number:02d}-{slug}.md"] = writer.module(lesson, session, extra)
    writer.report_lossy()
    files[f"{folder}/course.yaml"] = course_yaml(lesson, session_minutes, language)
    files[f"{folder}/introduction.md"] = introduction(lesson, session_minutes)
    files["README.md"] = (f"# {lesson.title}\n\nA kit made by `kit import carpentries` from the "
                          f"{lesson.carpentry} lesson *{lesson.title}* (CC BY 4.0).\n"
                          "`kit check` lists what to look at; `kit build` prints the facilitator guide and "
                          "the participant worksheets into `build/`.\n")
    files[".gitignore"] = "build/\n"
    counts = dict(writer.counts, episodes=len(lesson.episodes), sessions=len(sessions),
                  figures=len(lesson.figures))
    if lesson.instructor_notes is not None:
        counts["instructor_note_pages"] = 1
    return Plan(files, course, sessions, counts)
