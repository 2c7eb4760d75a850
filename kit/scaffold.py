"""`kit init` and `kit new session`: start a kit, and add the next session to a course.

What these write is checked before it is written: a new kit builds as it is,
and a new session passes `kit check` without errors. The lint warnings a new
session gets (no objectives, no formative check yet, no anticipated questions,
no timing note) are the list of what its author still has to write.
Nothing here imports click, Jinja or WeasyPrint.
"""
from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from pathlib import Path

from kit import kinds
from kit.errors import KitError, Problem, Problems
from kit.loader import MODULE_RE, load_kit
from kit.parse import parse_module
from kit.schema import LANGUAGE_RE

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
ANY_MODULE_RE = re.compile(r"^(\d{2})-.*\.md$")


def slugify(title: str) -> str:
    """'Descending into ML: Über-loss!' -> 'descending-into-ml-uber-loss' (lower-case ASCII, dashes)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def yaml_text(value: str) -> str:
    """A one-line string as a YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _write_new(path: Path, text: str) -> None:
    """Create `path` with `text`; never replaces an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


# --- kit init --------------------------------------------------------------------

COURSE_TEMPLATE = """\
# The course. Every key is explained in README.md.
title: {title}
subtitle: One line under the title; replace it or delete this line
audience: >-
  Who the course is for and what they already know. Replace this text.
# The language the content is written in; the kit prints its own words (headings,
# labels, dates) in it: en, de, es or fr (a regional code such as de-CH works too).
language: {language}
session_minutes: 90
# Minutes, per 90 minutes of session, that the cuts must be able to win back from a
# session's midpoint on (kit check warns when they cannot).
recovery_minutes: 10
# The company whose products the examples talk about. Replace this placeholder with
# your own company and its products; an `example` block names a product by its id.
# `fictional: true` makes every session's guide say that the company is made up.
organisation:
  name: Example Company
  about: A placeholder company. Replace it with your own.
  fictional: true
  products:
    - id: example-app
      name: Example App
      about: What the product does, in one sentence.
# What to do when the room does not follow the plan: printed on a card in every
# session's guide. Keep each to a sentence or two; delete the ones you have no advice for.
moves:
  silence: Count to ten in your head before you say anything; then ask the pair nearest you.
  no_prework: Give five minutes to the pre-work's key figure, then carry on.
  odd_number: Make one group of three; the third person times the turns.
  one_voice: Thank them, then ask "someone who has not spoken yet?".
  projector: Draw the key figure on the whiteboard; the worksheets have every prompt.
  collect: The exit tickets, each copied onto a sticky note with a name, and the feedback cards.
"""

INTRODUCTION_TEMPLATE = """\
This introduction opens the facilitator guide, before session 1. Use it to say how
the course runs: how long each session is, what participants do before class, and
what a facilitator needs to prepare. Replace this text.
"""

# A complete session that shows every kind of block. It passes `kit check --strict`.
EXAMPLE_SESSION = """\
---
title: Your first session
minutes: 90
objectives:
  - Replace these lines with what participants can do after the session
  - Start each with a verb you could observe, such as explain, choose or predict
  - Keep to three to five objectives
prework:
  - title: A video participants watch before class (replace it)
    url: https://example.org/replace-with-a-video
    minutes: 10
    kind: video
  - title: A reading; estimate says the minutes are your guess
    url: https://example.org/replace-with-a-reading
    minutes: 15
    kind: reading
    estimate: true
materials:
  - Whiteboard and markers
  - Printed worksheets, one per participant
preparation:
  - task: Do the pre-work yourself and note what confused you
    minutes: 30
think_about:
  - A question participants think about before class (it goes into `kit announce`)
---
Text before the first `##` heading is the session's overview, for the facilitator:
what the session is about and where it fits in the course. Every `##` heading below
is a segment of the run of show, with its minutes and kind in braces; the minutes
add up to the session's 90.

## Welcome {minutes=5 kind=opening}

Plain text inside a segment is the facilitator's talking points.

::: say
The one sentence to say aloud at this point; it is printed on the run sheet.
:::

## Recap of the pre-work {minutes=10 kind=recap}

::: check
A quick question to the room that tells you whether the pre-work landed.
:::

## The main idea {minutes=20 kind=discussion}

::: ask Open the discussion
fallback: What to do if nobody answers, e.g. give your own answer first.

A question to put to the room; Example App can be named anywhere in a session.

:::: answer
What to listen for in the answers.
::::
:::

::: note
at: 5
takes: 5

A note for the facilitator only, such as what to draw on the whiteboard; `at:` and
`takes:` print its clock time in the guide and on the run sheet.
:::

:::: prompt A question participants answer in writing
lines: 4

The prompt appears on the worksheet with ruled lines to write on.

::: answer
The answer appears in the facilitator guide only.
:::
::::

::: misconception
A wrong belief participants are likely to hold.

:::: answer
How to set it straight.
::::
:::

::: check
fallback: What to do if nobody answers.

Another quick check, so that no more than 15 minutes pass without one.
:::

## Pair flip {minutes=15 kind=pair}

::: pair Explain it to a partner
a: Explains the main idea in their own words.
b: Asks "why?" twice, then sums up in one sentence.
setup: 1
minutes: 5
debrief-minutes: 4
debrief:
  - What was hardest to put into words?

The instructions participants read on their worksheet. Set-up, turns and debrief
add up to no more than the segment's minutes.
:::

::: cut Shorten the debrief to one question
saves: 3

A cut says what to drop when the session runs late and the minutes it saves; the
run sheet adds up what can still be won back at each segment.
:::

::: anecdote A story worth telling
point: What the story shows, in one sentence.
source: Where it comes from, e.g. "the course's first facilitator".
retell: How to tell it, e.g. in the third person.

The story itself, as you would tell it.
:::

## Break {minutes=10 kind=break}

Ten minutes away from the screen.

## Apply it {minutes=20 kind=activity}

::: example The main idea in Example App
product: example-app

How the main idea shows up in one of the organisation's products.
:::

:::: prompt Where would you use it?
lines: 6

Name one place in your own work where the main idea applies.

::: answer
Good answers name a concrete feature and what it would predict.
:::
::::

::: cut Take one answer aloud instead of the written prompt
saves: 7
decide: 1:10

`decide:` is the latest moment to choose this cut; without it, the latest moment at
which the minutes it saves (and those of any later cut in this segment) still lie ahead.
:::

## Wrap-up {minutes=10 kind=wrap-up}

::: question
A question participants are likely to ask.

:::: answer
Its answer, for the facilitator.
::::
:::

::: check
Thumbs up if you could explain the main idea to a colleague.
:::

::: timing
add: What to add if the session runs short.
:::
"""

AUTHOR_README = """\
# {title}: the course's source

This folder is a kit for [Facilitator Kit](https://pypi.org/project/facilitator-kit/):
a course written as Markdown, compiled into a printable facilitator guide and
participant worksheets (PDF).

```
content/
  {slug}/
    course.yaml            # the course: title, audience, session length, organisation
    introduction.md        # opens the facilitator guide
    01-your-first-session.md   # one module per session: NN-slug.md
```

## A module

A module starts with YAML front matter between two `---` lines (`title`, `minutes`,
`objectives`, `prework`, `materials`, `preparation`, `think_about`, `resources`).
The body is the run of show: each `##` heading is a segment with its minutes and kind,

```
## Recap of the pre-work {{minutes=10 kind=recap}}
```

and the segments' minutes add up to the session's. Kinds: opening, recap, discussion,
pair, activity, demo, break, wrap-up. Inside a segment, blocks are fenced with colons:

```
::: anecdote A story worth telling
point: What the story shows.
source: Where it comes from.

The story.
:::
```

{kinds}

## Commands

| command | what it does |
| --- | --- |
| `kit new session {slug} "Title"` | add the next numbered session, with a run of show to fill in |
| `kit add anecdote 02 --segment "Recap" --title "..."` | add an anecdote to a segment (the story from `--from-file`, standard input or your editor) |
| `kit check` | list every error and missing piece as `path:line: error|warning: message` |
| `kit build` | write the PDFs into `build/` |
| `kit announce 02 --delivery cohort.yaml` | print session 2's pre-work announcement in Markdown |
| `kit export -o course.json` | write the whole course as JSON |

Run them in this folder; `kit COMMAND --help` explains each one's options.
"""


def kinds_paragraph() -> str:
    """The new kit's README on block kinds, from the registry (kit.kinds)."""
    def code(kind: type[kinds.Kind]) -> str:
        return f"`{kind.name}`" + (f" ({kind.hint})" if kind.hint else "")

    written = kinds.written_kinds()
    text = f"Block kinds: {kinds.joined(map(code, written), 'and')}"
    holders = kinds.answer_parents()
    if holders:
        text += (f"; {kinds.joined((f'`{k.name}`' for k in holders), 'and')} hold a nested "
                 "`answer` (one more colon on the outer fences)")
    text += ". `01-your-first-session.md` uses each of them once: copy from it."
    shown = [k for k in kinds.participant_kinds() if k in written]
    if shown:
        hidden = " (without their answers)" if any(k.takes_answer for k in shown) else ""
        text += (f" Only the {kinds.joined((f'`{k.name}`' for k in shown), 'and')} blocks{hidden} "
                 "and the pre-work reach the participants' worksheets.")
    return textwrap.fill(text, width=83, break_long_words=False, break_on_hyphens=False)


def init_kit(folder: Path, course: str = "my-course", title: str = "My course",
             language: str = "en") -> list[Path]:
    """Create a new kit in `folder` (absent or empty) and return the files written. Its
    course.yaml says `language: LANGUAGE`; the example session's text stays English."""
    from kit import i18n

    folder = Path(folder)
    if not re.fullmatch(LANGUAGE_RE, language):
        raise KitError(f"'{language}' is not a language code such as en, de or fr-CH")
    if not i18n.supported(language):
        raise KitError(i18n.unsupported_message(language))
    if not SLUG_RE.fullmatch(course):
        raise KitError(f"course slug '{course}' is not valid: use lower-case letters, digits and '-'")
    title = " ".join(title.split())
    if not title:
        raise KitError("the course needs a title")
    if folder.exists():
        if not folder.is_dir():
            raise KitError(f"{folder.resolve()}: exists and is not a folder")
        if any(folder.iterdir()):
            raise KitError(f"{folder.resolve()}: the folder is not empty; 'kit init' only writes into a new "
                           "or empty folder, so that it never overwrites your files")
    course_dir = folder / "content" / course
    files = {
        course_dir / "course.yaml": COURSE_TEMPLATE.format(title=yaml_text(title), language=language),
        course_dir / "introduction.md": INTRODUCTION_TEMPLATE,
        course_dir / "01-your-first-session.md": EXAMPLE_SESSION,
        folder / "README.md": AUTHOR_README.format(title=title, slug=course, kinds=kinds_paragraph()),
        folder / ".gitignore": "build/\n",
    }
    for path, text in files.items():
        _write_new(path, text)
    return list(files)


# --- kit new session -------------------------------------------------------------

FRONT_TEMPLATE = """\
---
title: {title}
minutes: {minutes}
# What participants can do afterwards: three to five lines, each starting with a verb.
objectives: []
# Before class; each item: title, url (https), minutes, kind (video, reading or exercise).
prework: []
materials: []
# The facilitator's preparation; each item: task, minutes.
preparation: []
# Questions participants think about before class (used by `kit announce`).
think_about: []
---
TODO: in two or three sentences, what this session is about and where it fits in the course.
"""

SEGMENT_TEXT = {
    "opening": "TODO: how you open: a question to the room, a quick poll or a story.\n"
               "Add a `say` block with the one sentence to say aloud.",
    "discussion": "TODO: the talking points. Add a `prompt` or a `check` block at least every\n"
                  "15 minutes, and `misconception` blocks for the wrong beliefs you expect.",
    "pair": "TODO: add a `pair` block with the roles (`a:`, `b:`), the minutes per turn\n"
            "and the debrief questions.",
    "activity": "TODO: what participants do, and an `example` block that shows it in one\n"
                "of the organisation's products.",
    "wrap-up": "TODO: add the questions participants are likely to ask (`question` blocks\n"
               "with an `answer`) and a `timing` block: what to cut if running long, what\n"
               "to add if running short.",
}


def plan_segments(minutes: int) -> list[tuple[str, int, str]]:
    """A run of show of (title, minutes, kind) that adds up to `minutes`."""
    if minutes < 20:
        return [("The main idea", minutes, "discussion")]
    opening, wrap = 5, 10 if minutes >= 60 else 5
    rest = minutes - opening - wrap
    pair = 15 if rest >= 30 else 0
    rest -= pair
    plan = [("Opening", opening, "opening")]
    if rest >= 40:
        first = rest // 2
        plan.append(("The main idea", first, "discussion"))
        plan.append(("Pair flip", pair, "pair"))
        plan.append(("Apply it", rest - first, "activity"))
    else:
        plan.append(("The main idea", rest, "discussion"))
        if pair:
            plan.append(("Pair flip", pair, "pair"))
    plan.append(("Wrap-up", wrap, "wrap-up"))
    return plan


def session_text(title: str, minutes: int) -> str:
    parts = [FRONT_TEMPLATE.format(title=yaml_text(title), minutes=minutes)]
    for seg_title, seg_minutes, kind in plan_segments(minutes):
        parts.append(f"\n## {seg_title} {{minutes={seg_minutes} kind={kind}}}\n\n{SEGMENT_TEXT[kind]}\n")
    return "".join(parts)


def course_folder(root: Path, course: str) -> Path:
    content = Path(root) / "content"
    if not content.is_dir():
        raise KitError(f"{root}: not a kit: there is no content/ folder (create one with 'kit init')")
    folder = content / course
    if not (folder / "course.yaml").is_file():
        courses = sorted(p.name for p in content.iterdir() if (p / "course.yaml").is_file())
        raise KitError(f"no course '{course}' in {content}; courses: {', '.join(courses) or 'none'}")
    return folder


def new_session(root: Path, course: str, title: str) -> Path:
    """Write the next numbered module of `course` (NN = highest + 1) and return its path."""
    root = Path(root)
    folder = course_folder(root, course)
    title = " ".join(title.split())
    slug = slugify(title)
    if not slug:
        raise KitError(f"cannot make a file name from the title '{title}': "
                       "it needs at least one ASCII letter or digit")
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := ANY_MODULE_RE.match(p.name))]
    number = max(numbers, default=0) + 1
    if number > 99:
        raise KitError(f"{folder}: the course already has a session 99; module numbers have two digits")
    path = folder / f"{number:02d}-{slug}.md"
    if not MODULE_RE.match(path.name):  # pragma: no cover - slugify guarantees the pattern
        raise KitError(f"cannot name a module {path.name}")

    loaded = load_kit(root, course)
    found = loaded.kit.course(course)
    if found is None:  # course.yaml itself has errors: those are what to fix first
        loaded.problems.raise_if_errors()
        raise KitError(f"cannot read {folder / 'course.yaml'}")
    text = session_text(title, found.session_minutes)

    # The new module must pass `kit check` without errors: parse it before writing it.
    problems = Problems(root)
    rel = problems.rel(path)
    parse_module(text, rel, number, slug, {p.id: p.name for p in found.organisation.products},
                 found.session_minutes, lambda line, msg: problems.error(path, line, msg),
                 lambda line, msg: problems.warning(path, line, msg))
    if problems.errors:  # pragma: no cover - a defect in the template
        raise KitError(problems.errors)
    try:
        _write_new(path, text)
    except FileExistsError:
        raise KitError([Problem(rel, 1, 0, "error", "the file already exists; it was not changed")]) from None
    return path
