"""`kit import carpentries`: a Carpentries lesson (Workbench, or the older Jekyll format)
becomes a kit that `kit check` accepts and `kit build` prints, with no solution on a worksheet.

The lessons are fixtures written for these tests (tests/fixtures/carpentries/); the real
lessons in ../shared/carpentries are used, when present, only to compare the two formats
of the same lesson, at the level of the imported model (no PDF).
"""
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.carpentries import import_lesson, read_lesson
from kit.carpentries.lesson import Aside, Exercise
from kit.carpentries.mapping import apportion, episode_segments, plan_sessions
from kit.check import check_kit_dir
from kit.cli import main
from kit.errors import KitError, Problems

FIXTURES = Path(__file__).parent / "fixtures" / "carpentries"
LESSON = FIXTURES / "workbench-lesson"
PROBLEMS = FIXTURES / "workbench-problems"
JEKYLL = FIXTURES / "jekyll-lesson"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "carpentries"
SECRETS = ["SOLUTION-ALPHA", "SOLUTION-BETA", "SOLUTION-GAMMA", "SOLUTION-DELTA", "SOLUTION-EPSILON",
           "SOLUTION-ZETA", "SOLUTION-ETA", "SOLUTION-THETA"]


def lesson_of(folder: Path):
    problems = Problems(folder)
    lesson, _ = read_lesson(folder, problems)
    return lesson, problems


def exercises(lesson):
    return [item for ep in lesson.episodes for item in ep.items if isinstance(item, Exercise)]


def messages(problems, severity=None):
    return [p.format(with_col=True) for p in problems.items if severity in (None, p.severity)]


@pytest.fixture(scope="module")
def fixture_lesson():
    return lesson_of(LESSON)


# --- reading the Workbench format ------------------------------------------------------

def test_config_gives_the_title_and_the_order_of_the_episodes(fixture_lesson):
    lesson, problems = fixture_lesson
    assert lesson.title == "Baking Bread at Home"
    assert lesson.carpentry == "Software Carpentry"
    assert [ep.source for ep in lesson.episodes] == ["episodes/01-flour.md", "episodes/02-dough.Rmd",
                                                     "episodes/03-lunch.md", "episodes/04-oven.md"]
    assert [(ep.teaching, ep.exercises, ep.break_minutes, ep.start) for ep in lesson.episodes] == \
        [(10, 10, 0, False), (20, 0, 0, True), (0, 0, 30, False), (100, 20, 0, False)]
    assert not problems.errors


def test_questions_objectives_and_keypoints_are_lists(fixture_lesson):
    flour = fixture_lesson[0].episodes[0]
    assert flour.questions == ("Which flour makes a good loaf?", "How much water does a flour take?")
    assert flour.objectives == ("Tell bread flour from cake flour.", "Weigh flour in grams.")
    assert flour.keypoints == ("Bread flour has more protein.", "Weigh, do not measure by volume.")


def test_a_challenge_keeps_all_its_solutions_in_order_and_its_hints(fixture_lesson):
    challenge = exercises(fixture_lesson[0])[0]
    assert challenge.title == "Read the bag"
    assert [s.split(":")[0].split()[-1] for s in challenge.solutions] == ["SOLUTION-ALPHA", "SOLUTION-BETA"]
    assert challenge.hints == ("Look near the nutrition table.",)
    assert "Look near the nutrition table." in challenge.text  # a hint is for participants
    assert challenge.notes == ("Bring two bags to pass around.",)
    assert "**A second way**" in challenge.solutions[1]  # a solution's own title is kept


def test_fences_of_any_length_and_a_bare_line_closes_the_innermost(fixture_lesson):
    # The challenge opens with 80 colons and holds divs of 3, 4 and 6 colons: each bare line
    # closed the innermost, so the callout after it is outside, not in the challenge.
    flour = fixture_lesson[0].episodes[0]
    section = next(s for s in flour.sections if s.title == "Kinds of flour")
    kinds = [getattr(item, "kind", "prose") for item in section.items]
    assert kinds == ["prose", "challenge", "callout", "instructor"]


def test_solutions_nested_in_discussions_and_solutions_are_answers(fixture_lesson):
    discussion = exercises(fixture_lesson[0])[1]
    assert discussion.kind == "discussion"
    assert len(discussion.solutions) == 1
    assert "SOLUTION-GAMMA" in discussion.solutions[0] and "SOLUTION-DELTA" in discussion.solutions[0]
    assert "SOLUTION" not in discussion.text


def test_a_jekyll_solution_blockquote_in_a_workbench_episode_is_an_answer(fixture_lesson):
    lesson, problems = fixture_lesson
    windowpane = exercises(lesson)[2]
    assert windowpane.title == "The windowpane test"
    assert "SOLUTION-EPSILON" in windowpane.solutions[0]
    assert "SOLUTION" not in windowpane.text and "{:" not in windowpane.text
    assert any("episodes/02-dough.Rmd:31:" in m and "Jekyll-style" in m for m in messages(problems))


def test_no_solution_is_ever_participant_text(fixture_lesson):
    for exercise in exercises(fixture_lesson[0]):
        for secret in SECRETS:
            assert secret not in exercise.text and secret not in exercise.title


def test_other_divs_keep_their_kind_and_title(fixture_lesson):
    flour = fixture_lesson[0].episodes[0]
    asides = {item.kind: item for item in flour.items if isinstance(item, Aside)}
    assert set(asides) == {"callout", "instructor", "testimonial", "prereq", "checklist", "spoiler", "caution"}
    assert asides["callout"].title == "Sifting"
    assert asides["checklist"].text == "- A bowl\n- A spoon"


def test_figures_links_and_pandoc_attributes(fixture_lesson):
    lesson, _ = fixture_lesson
    prose = " ".join(item.text for item in lesson.episodes[0].items if not isinstance(item, Exercise))
    assert "![Three bowls of flour side by side](fig/grains.svg)" in prose
    assert "{alt=" not in prose
    assert "(https://example.org/baking-bread/reference.html#protein)" in prose  # a relative link, on the site
    assert lesson.figures == (("fig/grains.svg", "episodes/fig/grains.svg"),)


def test_r_markdown_chunks_stay_code_and_are_not_run(fixture_lesson):
    dough = fixture_lesson[0].episodes[1]
    assert dough.rmd
    text = " ".join(item.text for item in dough.items if not isinstance(item, Exercise))
    assert "```r\nflour <- 500" in text and "{r" not in text


def test_setup_and_instructor_notes_are_read(fixture_lesson):
    lesson, _ = fixture_lesson
    assert lesson.setup is not None and lesson.setup.sections[0].title == "Ingredients"
    assert lesson.instructor_notes is not None
    assert "Bake a loaf the day before" in lesson.instructor_notes.items[0].text


def test_problems_name_the_lesson_file_and_line():
    problems = Problems(PROBLEMS)
    with pytest.raises(KitError) as caught:
        import_lesson(PROBLEMS, PROBLEMS.parent / "never-written", 90)
    found = [p.format(with_col=True) for p in caught.value.problems]
    expected = [
        "episodes/01-timing.md:3: warning: 'teaching: 10 minutes' is not a number; read as 10",
        "episodes/01-timing.md:4: warning: the episode has 1 challenge but 'exercises: 0'",
        "episodes/01-timing.md:5: warning: 'start: yes' is a YAML 1.1 boolean",
        "episodes/01-timing.md:10: warning: figure 'fig/missing.png' is not in the lesson",
        "episodes/01-timing.md:12: warning: figure 'https://example.org/photo.png' is on the web and is not fetched",
        "episodes/02-unclosed.md:3: error: 'teaching: lots' is not a number of minutes",
        "episodes/02-unclosed.md:9: error: the 'challenge' div opened here is not closed",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in found), (start, found)
    assert not (PROBLEMS.parent / "never-written").exists()
    assert problems.items == []


# --- the mapping ---------------------------------------------------------------------

def test_apportion_adds_up_exactly():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(37, [5, 0, 2, 9])) == 37
    assert apportion(0, [1, 2]) == [0, 0]


def test_minutes_add_up_exactly_for_every_episode(fixture_lesson):
    lesson, _ = fixture_lesson
    problems = Problems(LESSON)
    for ep in lesson.episodes:
        segments = episode_segments(ep, problems)
        assert sum(s.minutes for s in segments) == ep.teaching + ep.exercises + ep.break_minutes
        assert all(s.minutes >= 1 for s in segments)
    flour = episode_segments(lesson.episodes[0], problems)
    # The exercise minutes go to the one section with a challenge.
    assert [(s.kind, s.minutes) for s in flour] == [("opening", 1), ("discussion", 1), ("activity", 13),
                                                    ("demo", 4), ("wrap-up", 1)]


def test_episodes_are_packed_into_sessions_and_long_ones_split(fixture_lesson):
    lesson, _ = fixture_lesson
    sessions = plan_sessions(lesson, 90, Problems(LESSON))
    # Flour (20); then Dough starts a new day (start: true) and lunch fits with it; Baking
    # (120 minutes) is longer than a session and is split at its sections.
    assert [[p.title for p in s.parts] for s in sessions] == [
        ["Choosing Flour"], ["Mixing the Dough", "Lunch"], ["Baking (part 1 of 2)"], ["Baking (part 2 of 2)"]]
    assert all(s.minutes <= 90 for s in sessions)
    assert sum(s.minutes for s in sessions) == 20 + 20 + 30 + 120
    wide = plan_sessions(lesson, 180, Problems(LESSON))
    assert [len(s.parts) for s in wide] == [1, 3]


# --- the kit -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    kit_dir = tmp_path_factory.mktemp("import") / "kit"
    return import_lesson(LESSON, kit_dir, 90)


def test_the_imported_kit_passes_kit_check(imported):
    problems = check_kit_dir(imported.kit_dir)
    assert [p.format() for p in problems if p.severity == "error"] == []
    assert imported.counts["prompts"] == 4 and imported.counts["asks"] == 1 and imported.counts["answers"] == 6
    assert imported.counts["sessions"] == 4 and imported.counts["notes"] == 2


def test_the_modules_hold_prompts_answers_notes_and_prework(imported):
    folder = imported.kit_dir / "content" / imported.course
    first = (folder / "01-choosing-flour.md").read_text()
    assert ":::: prompt Read the bag\nlines:" in first
    assert "::: note Instructor note\n\nBring two bags" in first
    assert "url: \"https://example.org/baking-bread/data/recipes.zip\"" in first
    assert (folder / "fig" / "grains.svg").read_bytes().startswith(b"<svg")
    dough = (folder / "02-mixing-the-dough.md").read_text()
    assert "R was not run" in dough or "not run (kit runs no R)" in dough
    intro = (folder / "introduction.md").read_text()
    assert "## Instructor notes" in intro and "## Setup" in intro


def test_lossy_conversions_are_reported_once_per_kind(imported):
    lossy = [p.message for p in imported.warnings if "imported:" in p.message]
    assert len(lossy) == 7
    assert any("'testimonial'" in m and "anecdotes" in m for m in lossy)


def test_a_non_empty_folder_is_refused_and_an_earlier_import_replaced(tmp_path):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(KitError, match="not empty and is not an earlier import"):
        import_lesson(LESSON, busy, 90)
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    kit_dir = tmp_path / "kit"
    import_lesson(LESSON, kit_dir, 90)
    import_lesson(LESSON, kit_dir, 180)  # fewer sessions: the old modules go
    modules = sorted(p.name for p in (kit_dir / "content" / "baking-bread-at-home").glob("0*.md"))
    assert modules == ["01-choosing-flour.md", "02-mixing-the-dough.md"]


def test_nothing_is_read_through_a_link_out_of_the_lesson(tmp_path):
    lesson = tmp_path / "lesson"
    shutil.copytree(LESSON, lesson)
    secret = tmp_path / "secret.svg"
    secret.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (lesson / "episodes" / "fig" / "grains.svg").unlink()
    (lesson / "episodes" / "fig" / "grains.svg").symlink_to(secret)
    (tmp_path / "outside.md").write_text("---\ntitle: Outside\nteaching: 5\n---\nSECRET TEXT\n")
    (lesson / "episodes" / "01-flour.md").unlink()
    (lesson / "episodes" / "01-flour.md").symlink_to(tmp_path / "outside.md")
    with pytest.raises(KitError) as caught:
        import_lesson(lesson, tmp_path / "kit", 90)
    text = "\n".join(p.format() for p in caught.value.problems)
    assert "episodes/01-flour.md:1: the file links to a place outside the lesson folder" in text
    assert "SECRET" not in text
    assert not (tmp_path / "kit").exists()


def test_the_cli_imports_and_reports_like_kit_check(tmp_path):
    runner = CliRunner()
    done = runner.invoke(main, ["import", "carpentries", str(LESSON), "-o", str(tmp_path / "kit")])
    assert done.exit_code == 0, done.output
    assert "4 sessions from 4 episodes, 4 prompts with 6 answers" in done.output
    assert "episodes/02-dough.Rmd:31: warning: a Jekyll-style" in done.output
    failed = runner.invoke(main, ["import", "carpentries", str(PROBLEMS), "-o", str(tmp_path / "bad")])
    assert failed.exit_code == 1
    assert "episodes/02-unclosed.md:9: error: the 'challenge' div opened here is not closed" in failed.output
    assert "Traceback" not in failed.output and not (tmp_path / "bad").exists()
    neither = runner.invoke(main, ["import", "carpentries", str(tmp_path / "kit")])
    assert neither.exit_code == 1 and "not a Carpentries lesson" in neither.output


# --- PDFs: no solution on a worksheet --------------------------------------------------

def solution_snippets(lesson) -> list[str]:
    """Words of every solution (each line long enough to be telling), as a PDF prints them."""
    snippets = []
    for ep in lesson.episodes:
        for item in ep.items:
            texts = item.solutions if isinstance(item, Exercise) else \
                [item.text] if isinstance(item, Aside) and item.kind == "solution" else []
            for text in texts:
                for line in text.split("\n"):
                    words = re.sub(r"[`*_#>\[\]()]", " ", line).split()
                    if len(words) >= 5:
                        snippets.append(" ".join(words[:8]))
    return snippets


@pytest.mark.parametrize("folder", [LESSON, JEKYLL], ids=["workbench", "jekyll"])
def test_no_solution_text_is_in_the_built_worksheets(folder, tmp_path):
    if not (folder / "_config.yml").exists() and not (folder / "config.yaml").exists():
        pytest.skip("the fixture lesson is not there")
    from kit.build import BuildOptions, build
    from pdftext import all_text

    lesson, _ = lesson_of(folder)
    snippets = solution_snippets(lesson)
    assert snippets
    # Every episode, challenge and solution is imported whatever the sessions' length; 180
    # minutes packs the Workbench lesson into two sessions rather than four (a build of six
    # fewer documents). Splitting an episode only groups its sections (plan_sessions, tested
    # above): each section is written the same.
    result = import_lesson(folder, tmp_path / "kit", 180)
    build(result.kit_dir, BuildOptions(out=tmp_path / "out", jobs=1))
    worksheets = all_text(tmp_path / "out" / result.course / "participant-worksheets.pdf")
    guide = all_text(tmp_path / "out" / result.course / "facilitator-guide.pdf")
    normal = " ".join(re.sub(r"[`*_#>\[\]()]", " ", worksheets).split())
    for snippet in snippets:
        assert snippet not in normal, snippet
    assert any(snippet in " ".join(re.sub(r"[`*_#>\[\]()]", " ", guide).split()) for snippet in snippets)
    if folder == LESSON:
        for secret in SECRETS:
            assert secret not in worksheets
        assert "SOLUTION-ALPHA" in guide


# --- the two formats of the same lesson ------------------------------------------------

def _plain(text: str) -> str:
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(re.sub(r"[\\`*_]", "", text).split())


@pytest.mark.skipif(not (SHARED / "shell-novice-styles").is_dir(), reason="the real lessons are not here")
def test_both_formats_of_the_shell_lesson_give_the_same_prompts_answers_and_notes():
    import difflib

    workbench, _ = lesson_of(SHARED / "shell-novice-workbench")
    jekyll, _ = lesson_of(SHARED / "shell-novice-styles")
    a, b = exercises(workbench), exercises(jekyll)
    assert [(e.kind, _plain(e.title), len(e.solutions)) for e in a] == \
        [(e.kind, _plain(e.title), len(e.solutions)) for e in b]
    # The two sources are two commits apart, and some challenges were edited in between:
    # the texts must still be nearly all the same.
    close = [difflib.SequenceMatcher(None, _plain(x.text), _plain(y.text)).ratio() > 0.8 and
             all(difflib.SequenceMatcher(None, _plain(s), _plain(t)).ratio() > 0.6
                 for s, t in zip(x.solutions, y.solutions)) for x, y in zip(a, b)]
    assert sum(close) >= 0.8 * len(close)
    notes = [workbench.instructor_notes, jekyll.instructor_notes]
    assert all(notes)
    texts = [_plain(" ".join(getattr(i, "text", "") for i in page.items)) for page in notes if page]
    assert difflib.SequenceMatcher(None, texts[0][:3000], texts[1][:3000]).ratio() > 0.5


def test_titles_are_printed_as_plain_text():
    from kit.carpentries.mapping import short

    # A kit prints a block's title as it is: Markdown marks in a lesson's titles would show.
    assert short("Exploring More `ls` Options") == "Exploring More ls Options"
    assert short("**Bold** {a}") == "Bold (a)"


def test_a_lesson_in_a_language_without_a_catalogue_is_imported_with_english_labels(tmp_path):
    lesson = tmp_path / "lesson"
    shutil.copytree(LESSON, lesson)
    config = lesson / "config.yaml"
    config.write_text(config.read_text().replace("lang: en", "lang: pt"))
    result = import_lesson(lesson, tmp_path / "kit", 90)
    assert "language: en" in (tmp_path / "kit" / "content" / result.course / "course.yaml").read_text()
    assert any("'pt'" in p.message and p.severity == "warning" and p.path == "config.yaml" for p in result.warnings)
    checked = CliRunner().invoke(main, ["check", str(tmp_path / "kit")])
    assert checked.exit_code == 0, checked.output
