"""Run-ready sessions (issue 13): cuts with the minutes they save and a recovery plan,
fallbacks and general moves, pacing inside a segment, pair flips that add up, and a
session guide that stands alone (the company, its products, the think-about questions,
the answer key). Built into real PDFs and read back."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from conftest import module, write_kit
from htmltext import printed_pdfs
from kit.build import BuildOptions, build
from kit.cli import main
from kit.loader import load_kit
from kit.views import recovery_plan
from pdftext import all_text, labelled_texts, pages_text

COURSE = """\
title: Ready Course
audience: Stand-in facilitators
recovery_minutes: 10
organisation:
  name: Acme
  about: ORG-ABOUT makes things.
  fictional: true
  products:
    - id: widget
      name: Acme Widget
      about: WIDGET-ABOUT sorts the mail.
    - id: gizmo
      name: Acme Gizmo
      about: GIZMO-ABOUT named only in a pair's debrief, across a line break.
    - id: gadget
      name: Gadget Pro
      about: GADGET-ABOUT is never named.
moves:
  silence: MOVE-SILENCE count to ten, then answer it yourself.
  odd_number: MOVE-ODD make one group of three.
  collect: MOVE-COLLECT the exit tickets, on sticky notes.
"""

# 60 minutes; the midpoint is 0:30. Cuts: CUT-ONE decides by 0:25 (10 + 20 - 5),
# CUT-TWO by 0:42 (45 - 3), CUT-THREE by 0:50 as written. From 0:30 on: 3 + 4 = 7
# minutes, exactly the course's share (10 per 90 minutes, of 60: 7).
READY = """\
---
title: Ready Session
minutes: 60
objectives: [Run the session]
think_about:
  - THINK-ONE what would you ask the model?
---
## Opening {minutes=10 kind=opening}

Today we look at how the Acme Widget learns.

::: ask Warm-up
fallback: FALLBACK-ASK give your own answer first.

ASK-TEXT what did you notice?

:::: answer
LISTEN-ASK the loss went down.
::::
:::

::: check
fallback: FALLBACK-OPENING ask a neighbour.

OPENING-CHECK who watched the video?
:::

## Drawing {minutes=20 kind=discussion}

::: note
at: 5
takes: 5

PACE-NOTE draw the V on the board.
:::

::: check
fallback: FALLBACK-CHECK ask the pairs first.

CHECK-TEXT thumbs up?
:::

:::: prompt Q-ONE-TITLE
lines: 3

PROMPT-ONE is it linear?

::: answer
KEY-ANSWER-ONE linear in the weights.
:::
::::

::: cut CUT-ONE drop the drawing
saves: 5
:::

## Flip {minutes=15 kind=pair}

::: pair Flip it
setup: 1
minutes: 4
debrief-minutes: 5
a: A explains
b: B explains
debrief:
  - How would the Acme
    Gizmo do it?

Explain it to your partner.
:::

::: cut CUT-TWO shorten the debrief
saves: 3
:::

## Wrap {minutes=15 kind=wrap-up}

:::: prompt Q-TWO-TITLE
lines: 2

PROMPT-TWO what changed?

::: answer
KEY-ANSWER-TWO the learning rate.
:::
::::

::: cut CUT-THREE skip the second prompt
saves: 4
decide: 0:50
:::

::: misconception
MISCONCEPTION-TEXT more data always helps.

:::: answer
Not always.
::::
:::

::: timing
add: ADD-MORE another flip
:::
"""

FACILITATOR_ONLY = ["FALLBACK-ASK", "FALLBACK-OPENING", "MISCONCEPTION-TEXT",  # never on a worksheet
                     "FALLBACK-CHECK", "LISTEN-ASK", "PACE-NOTE", "KEY-ANSWER-ONE",
                    "KEY-ANSWER-TWO", "CUT-ONE", "CUT-TWO", "CUT-THREE", "MOVE-SILENCE", "WIDGET-ABOUT"]


def ready_kit(root, module_text=READY, course=COURSE):
    return write_kit(root, {"content/fixture/course.yaml": course, "content/fixture/01-fixture.md": module_text})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = ready_kit(tmp_path_factory.mktemp("kit"))
    out = tmp_path_factory.mktemp("out")
    result = build(root, BuildOptions(out=out, jobs=1))
    sessions = out / "fixture" / "sessions"
    return result, sessions / "01-fixture-guide.pdf", sessions / "01-fixture-worksheet.pdf", out


def test_the_fixture_is_clean(built):
    result, *_ = built
    assert [p.format() for p in result.warnings] == []


def guide_pages(built) -> list[str]:
    """The guide's pages as text, in lower case (labels are printed in capitals)."""
    return [page.casefold() for page in pages_text(built[1])]


def guide_text(built) -> str:
    return " ".join(guide_pages(built))


def run_sheet(built) -> str:
    return next(p for p in guide_pages(built) if "run sheet" in p)


def test_each_cut_is_printed_in_its_segment_with_what_it_saves(built):
    text = guide_text(built)
    sheet_end = text.index("when the room does not follow the plan")
    for title, minutes in (("cut-one drop the drawing", 5), ("cut-two shorten the debrief", 3),
                           ("cut-three skip the second prompt", 4)):
        assert f"cut if late · saves {minutes} min {title}" in text[sheet_end:]
    assert "c1 · decide by 0:25 cut if late · saves 5 min cut-one" in text[sheet_end:]
    assert "c3 · decide by 0:50 cut if late · saves 4 min cut-three" in text[sheet_end:]
    # in its segment: after the segment's heading, before the next one
    assert text.index("drawing 2/4", sheet_end) < text.index("saves 5 min cut-one", sheet_end) \
        < text.index("flip 3/4", sheet_end)


def test_the_run_sheet_says_what_can_still_be_recovered_at_each_boundary(built):
    sheet = run_sheet(built)
    assert "behind? recover" in sheet  # the column, beside each segment's time and minutes
    assert re.search(r"1 0:00–0:10 opening opening 10 12 min: c1–c3 ", sheet)
    assert re.search(r"2 0:10–0:30 drawing discussion 20 12 min: c1–c3 ", sheet)
    assert re.search(r"3 0:30–0:45 flip pair 15 7 min: c2–c3 ", sheet)  # cut-one's moment (0:25) has passed
    assert re.search(r"4 0:45–1:00 wrap wrap-up 15 4 min: c3 ", sheet)
    assert "cut-one" not in sheet  # the cuts are named in the recovery plan, not in the cues
    text = guide_text(built)
    assert "recovery plan · from the plan's midpoint (0:30) the cuts recover 7 min" in text
    plan = text[text.index("recovery plan"):]
    assert "c1 cut-one drop the drawing saves 5 min 0:25 (before the plan's midpoint) drawing" in plan
    assert "c2 cut-two shorten the debrief saves 3 min 0:42 flip" in plan
    assert "c3 cut-three skip the second prompt saves 4 min 0:50 wrap" in plan
    # a worked example from the session's own numbers: 12 minutes behind at the midpoint
    assert ("twelve minutes behind at 0:30 on the clock, you are where the plan puts 0:18: the cuts still yours "
            "there are c1–c3, 12 min in all.") in plan
    # and what to do when they are not enough: leave for the wrap-up in time for it, shortened
    # by its own cut (c3 saves 4 of its 15 minutes), so that the session still ends on time
    assert ("still behind when the cuts run out? at 0:49 on the clock, leave whatever is running and go to "
            "4 · wrap, taking its own cuts (c3: 11 min left): the session still ends on time, at 1:00.") in plan


def test_a_session_without_cuts_still_says_when_to_leave_for_its_last_segment(tmp_path):
    no_cuts = re.sub(r"::: cut [^\n]*\nsaves: \d+\n(?:[^:][^\n]*\n)*:::\n", "", READY)
    assert READY.count("::: cut") == 3 and "::: cut" not in no_cuts
    root = ready_kit(tmp_path / "kit", no_cuts)
    guide = printed_pdfs(root)["fixture/sessions/01-fixture-guide.pdf"]
    assert "Recovery plan" not in guide
    assert ("Running late? This session has no planned cuts. At 0:45 on the clock, leave whatever is running "
            "and go to 4 · Wrap (15 min): the session still ends on time, at 1:00.") in guide


def test_the_worked_example_says_so_when_no_cut_is_left_at_its_moment(tmp_path):
    early = re.sub(r"::: cut CUT-(TWO|THREE)[^\n]*\nsaves: \d+\n(?:[^:][^\n]*\n)*:::\n", "", READY)
    early = early.replace("::: cut CUT-ONE drop the drawing\nsaves: 5\n", "::: cut CUT-ONE drop the drawing\nsaves: 5\ndecide: 0:15\n")
    assert early.count("::: cut") == 1 and "decide: 0:15" in early
    guide = printed_pdfs(ready_kit(tmp_path / "kit", early))["fixture/sessions/01-fixture-guide.pdf"]
    assert ("Twelve minutes behind at 0:30 on the clock, you are where the plan puts 0:18: no cut is left there, "
            "so go by the rule below the cuts.") in guide
    assert "Still behind when the cuts run out? At 0:45 on the clock" in guide


def test_a_timed_block_without_a_title_is_named_by_its_first_sentence_or_words(tmp_path):
    text = READY.replace("PACE-NOTE draw the V on the board.",
                         "PACE-NOTE one two three four five six seven eight nine ten eleven. PACE-MORE after it.")
    assert "PACE-MORE" in text
    sheet = printed_pdfs(ready_kit(tmp_path / "short", text))["fixture/sessions/01-fixture-guide.pdf"]
    assert "0:15 PACE-NOTE one two three four five six seven eight nine ten eleven. (5 min)" in sheet
    text = READY.replace("PACE-NOTE draw the V on the board.",
                         "PACE-NOTE one two three four five six seven eight nine ten eleven, twelve thirteen.")
    sheet = printed_pdfs(ready_kit(tmp_path / "long", text))["fixture/sessions/01-fixture-guide.pdf"]
    assert "0:15 PACE-NOTE one two three four five six seven eight nine ten eleven… (5 min)" in sheet


def test_fallbacks_stand_beside_their_questions_and_the_moves_card_is_printed(built):
    text = guide_text(built)
    assert ("ask-text what did you notice? listen for listen-ask the loss went down. "
            "if nobody answers fallback-ask give your own answer first.") in text
    assert "check-text thumbs up? if nobody answers fallback-check ask the pairs first." in text
    card = text[text.index("when the room does not follow the plan"):text.index("opening 1/4")]
    assert "nobody answers move-silence count to ten, then answer it yourself." in card
    assert "an odd number for a pair flip move-odd make one group of three." in card
    assert "at the end: what to collect move-collect the exit tickets, on sticky notes." in card
    assert "one voice dominates" not in card  # the course says nothing for it


def test_paced_blocks_show_their_clock_time_in_the_guide_and_on_the_run_sheet(built):
    text = guide_text(built)
    assert "0:15 · 5 min facilitator note pace-note draw the v on the board." in text  # 0:10 + 5 minutes
    assert "times 0:15 pace-note draw the v on the board. (5 min)" in run_sheet(built)


def test_the_pair_flip_split_is_on_the_run_sheet(built):
    assert ("timer 0:30 set-up (1 min) · 0:31 a explains (4 min) · 0:35 call “swap”: b explains (4 min) · "
            "0:39 debrief (5 min)" in run_sheet(built))
    assert "pair flip · 1 min set-up · 4 min per turn, then swap · 5 min debrief" in guide_text(built)


def test_the_guide_names_the_company_its_products_and_the_think_about_questions(built):
    first = guide_pages(built)[0]
    card = guide_text(built)
    card = card[card.index("the company in the examples"):]
    assert "acme: org-about makes things." in card
    assert "acme is fictional: a company made up for this course's examples." in card
    # a stand-in whose company's products differ is told what to do with the examples
    assert ("your company's products are different? tell each example as it is printed, then ask the room "
            "where the same thing happens in your own products") in card
    assert "acme widget widget-about sorts the mail." in card  # named in the opening's talk
    assert "gizmo-about named only" in card
    assert "gadget-about" not in guide_text(built)              # never named in the session
    assert "they were asked to think about think-one what would you ask the model?" in first


def test_the_answer_key_reproduces_the_worksheet_page_for_page(built):
    _, guide, sheet, _ = built
    sheet_pages = [page.casefold() for page in pages_text(sheet)]
    assert "feedback on session 1" in sheet_pages[-1]  # the tear-off card, the participants' own
    sheet_pages = sheet_pages[:-1]
    pages = guide_pages(built)
    key_start = next(i for i, p in enumerate(pages) if "session 1 · answer key" in p)
    key_pages = pages[key_start:]
    assert len(key_pages) == len(sheet_pages) == 2
    for sheet_page, key_page in zip(sheet_pages, key_pages):  # the same questions on the same pages
        assert re.findall(r"question \d+", sheet_page) == re.findall(r"question \d+", key_page)
        assert sheet_page.split()[-1] == key_page.split()[-1]  # the page number participants see
    # numbered W1-1, W1-2: never the guide's own 1-1, 1-2
    assert [page.split()[-1] for page in sheet_pages] == ["w1-1", "w1-2"]
    assert "answer key · worksheet page w1-2" in key_pages[1]
    # a loose page of the key says what it is across its top; no worksheet page does
    band = "answer key · for the facilitator only · never hand it out"
    assert all(band in page for page in key_pages) and not any(band in page for page in sheet_pages)
    key = " ".join(key_pages)
    assert key.index("question 1") < key.index("key-answer-one") < key.index("question 2") \
        < key.index("key-answer-two")
    assert "think-one" in " ".join(sheet_pages)  # participants have the questions too
    # The guide points at the worksheet's numbers
    assert "worksheet question 1" in " ".join(pages[:key_start])


def test_nothing_new_of_the_facilitators_reaches_the_worksheet(built):
    _, _, sheet, out = built
    for path in (sheet, out / "fixture" / "participant-worksheets.pdf"):
        text = all_text(path)
        for marker in FACILITATOR_ONLY:
            assert marker not in text, (path.name, marker)
        raw = path.read_bytes()
        assert b"Answer key" not in raw


def test_the_whole_guide_holds_each_sessions_answer_key(built):
    _, guide, _, out = built
    # only the pages of session 1's answer key are read (pypdf reads a page in about 0.1 s):
    # there must be some, and the answer is on them, so it is in the whole guide
    key = labelled_texts(out / "fixture" / "facilitator-guide.pdf", lambda label: label.startswith("K1-"))
    assert any(label.startswith("K1-") for label, _ in key)
    assert all("ANSWER KEY · FOR THE FACILITATOR ONLY · NEVER HAND IT OUT" in text for _, text in key)
    assert "KEY-ANSWER-TWO" in " ".join(text for _, text in key)


def check_output(root) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", str(root)])
    return result.exit_code, result.output


def assert_error_at(tmp_path, text: str, opening: str, message: str) -> None:
    """`kit check` fails with `message` at the line of the block that opens with `opening`."""
    code, output = check_output(ready_kit(tmp_path / "kit", text))
    line = text.splitlines().index(opening) + 1
    assert code == 1
    assert f"content/fixture/01-fixture.md:{line}: error: {message}" in output


def test_an_overrunning_pair_flip_is_an_error_at_its_line(tmp_path):
    text = READY.replace("setup: 1\nminutes: 4\ndebrief-minutes: 5", "setup: 2\nminutes: 5\ndebrief-minutes: 7")
    assert_error_at(tmp_path, text, "::: pair Flip it",
                    "the pair flip needs 19 minutes (2 set-up + 5 A + 5 B + 7 debrief); 'Flip' has 15")


def test_a_cut_on_a_segment_already_over_is_an_error_at_its_line(tmp_path):
    # decided at the break (0:45), a cut in Drawing (0:10-0:30) is too late
    text = READY.replace("::: cut CUT-ONE drop the drawing\nsaves: 5", "::: cut CUT-ONE drop the drawing\nsaves: 5\n"
                                                                      "decide: 0:45")
    assert_error_at(tmp_path, text, "::: cut CUT-ONE drop the drawing",
                    "the cut is decided at 0:45, when 'Drawing' (0:10–0:30) no longer has 5 minutes to save")


def test_the_cuts_of_one_segment_are_decided_early_enough_for_all_of_them(tmp_path):
    # Drawing runs 0:10-0:30. Taken together its cuts come out of its last 11 minutes:
    # the second (6 min) by 0:24, the first (5 min) by 0:19, not 0:25.
    two = "::: cut CUT-ONE drop the drawing\nsaves: 5\n:::\n\n::: cut CUT-ONE-B skip the sketch\nsaves: 6\n:::\n"
    text = READY.replace("::: cut CUT-ONE drop the drawing\nsaves: 5\n:::\n", two)
    session = load_kit(ready_kit(tmp_path / "kit", text)).kit.course("fixture").sessions[0]
    plan = {cut.title: cut.decide for cut in recovery_plan(session)}
    assert (plan["CUT-ONE drop the drawing"], plan["CUT-ONE-B skip the sketch"]) == ("0:19", "0:24")
    late = text.replace("drop the drawing\nsaves: 5\n", "drop the drawing\nsaves: 5\ndecide: 0:22\n")
    assert_error_at(tmp_path / "late", late, "::: cut CUT-ONE drop the drawing",
                    "the cut is decided at 0:22, when 'Drawing' (0:10–0:30) no longer has 5 minutes to save "
                    "besides the 6 of the cuts written after it: decide by 0:19")


def test_paced_blocks_that_exceed_the_segment_are_an_error(tmp_path):
    text = READY.replace("at: 5\ntakes: 5", "at: 12\ntakes: 9")
    code, output = check_output(ready_kit(tmp_path / "kit", text))
    assert code == 1
    assert "the timed blocks of 'Drawing' need 21 minutes by the end of this one; the segment has 20" in output


def test_too_few_cuts_after_the_midpoint_is_a_warning(tmp_path):
    text = READY.replace("saves: 4\ndecide: 0:50", "saves: 2\ndecide: 0:50")
    code, output = check_output(ready_kit(tmp_path / "kit", text))
    assert code == 0
    assert ("content/fixture/01-fixture.md:1: warning: from the midpoint (0:30) on, the cuts can recover 5 minutes; "
            "the course asks for 7 (recovery_minutes: 10 per 90 minutes)") in output


def test_a_discussion_question_without_fallback_warns_only_without_a_silence_move(tmp_path):
    text = READY.replace("fallback: FALLBACK-CHECK ask the pairs first.\n\n", "")
    lines = text.splitlines()
    line = lines.index("::: check", lines.index("## Drawing {minutes=20 kind=discussion}")) + 1
    code, output = check_output(ready_kit(tmp_path / "with", text))
    assert code == 0 and "nobody answers" not in output  # the course's silence move covers it
    course = COURSE.replace("  silence: MOVE-SILENCE count to ten, then answer it yourself.\n", "")
    code, output = check_output(ready_kit(tmp_path / "without", text, course))
    assert (f"content/fixture/01-fixture.md:{line}: warning: a check in the discussion 'Drawing' does not say "
            "what to do when nobody answers") in output


def test_a_timing_notes_cut_without_minutes_warns(tmp_path):
    text = module("title: T\nminutes: 10\nobjectives: [x]",
                  "## S {minutes=10 kind=discussion}\n\nText.\n\n::: check\nQ?\n:::\n\n"
                  "::: timing\ncut: drop the story\n:::\n")
    code, output = check_output(write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": text}))
    assert "a timing note's 'cut:' does not say what it saves" in output


def test_unknown_moves_are_rejected_with_the_valid_ones(tmp_path):
    code, output = check_output(ready_kit(tmp_path / "kit", course=COURSE + "  lunch: eat\n"))
    assert code == 1
    assert ("unknown key 'lunch' in 'moves'; valid keys: silence, no_prework, odd_number, one_voice, projector, collect"
            in output)


def test_export_carries_the_new_fields(tmp_path):
    result = CliRunner().invoke(main, ["export", str(ready_kit(tmp_path / "kit"))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    text = json.dumps(data)
    for expected in ('"saves": 5', '"fallback": "FALLBACK-CHECK ask the pairs first."', '"setup": 1',
                     '"debrief_minutes": 5', '"fictional": true', '"MOVE-SILENCE', '"recovery_minutes": 10',
                     '"label": "PACE-NOTE draw the V on the board."'):
        assert expected in text, expected


def test_a_title_a_kind_cannot_print_is_a_warning_and_a_notes_title_is_printed(tmp_path):
    drawing = "## Drawing {minutes=20 kind=discussion}\n"
    text = READY.replace("::: note\nat: 5", "::: note NOTE-TITLE the board\nat: 5").replace(
        drawing, drawing + "\n::: say SAY-TITLE\nHello.\n:::\n")
    root = ready_kit(tmp_path / "kit", text)
    code, output = check_output(root)
    line = text.splitlines().index("::: say SAY-TITLE") + 1
    assert (f"content/fixture/01-fixture.md:{line}: warning: a 'say' block has no title, so 'SAY-TITLE' "
            "is not printed") in output
    assert "NOTE-TITLE" not in output
    # The words the session's guide prints, from the HTML the build renders (what a page
    # says is the point here, not its layout): no WeasyPrint rendering of a second kit.
    assert "NOTE-TITLE the board" in printed_pdfs(root)["fixture/sessions/01-fixture-guide.pdf"]
