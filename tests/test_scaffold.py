"""`kit init` and `kit new session`: what they write checks clean and builds."""
import pytest
from click.testing import CliRunner

from kit.check import check_kit_dir
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit
from kit.scaffold import init_kit, new_session, plan_segments, slugify

from conftest import write_kit
from htmltext import printed_pdfs
from pdftext import all_text


@pytest.fixture(scope="module")
def built_new_kit(tmp_path_factory):
    """A kit made by `kit init`, then built once with `kit build`."""
    root = tmp_path_factory.mktemp("init") / "my-kit"
    out = root.parent / "out"
    init = CliRunner().invoke(main, ["init", str(root), "--title", "Acme: ML for teams"])
    assert init.exit_code == 0, init.output
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-q", "-j", "1"])
    return root, out, init, result


def test_init_writes_a_kit_that_builds(built_new_kit):
    root, out, init, result = built_new_kit
    assert result.exit_code == 0, result.output
    assert (root / "README.md").is_file()
    assert "kit new session my-course" in (root / "README.md").read_text()
    for name in ("course.yaml", "introduction.md", "01-your-first-session.md"):
        assert (root / "content/my-course" / name).is_file()
        assert f"created {root / 'content/my-course' / name}" in init.output
    assert (out / "my-course/facilitator-guide.pdf").is_file()
    # The guide's words from the HTML the build renders, not read back from its 13 pages of
    # PDF; the worksheets, which must not show the anecdote, are read from the PDF.
    guide = printed_pdfs(root)["my-course/facilitator-guide.pdf"]
    assert "Acme: ML for teams" in guide and "Your first session" in guide
    assert "A story worth telling" in guide  # the example anecdote reaches the guide
    sheets = all_text(out / "my-course/participant-worksheets.pdf")
    assert "Explain it to a partner" in sheets and "A story worth telling" not in sheets


def test_the_example_session_passes_check_without_warnings(built_new_kit):
    root = built_new_kit[0]
    assert check_kit_dir(root) == []
    course = load_kit(root).kit.course("my-course")
    kinds = {b.kind for b in course.sessions[0].blocks()}
    # The example shows every kind of block an author can write.
    assert kinds >= {"say", "note", "check", "prompt", "misconception", "question", "pair",
                     "anecdote", "example", "timing"}


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(KitError, match="not empty"):
        init_kit(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 1 and "not empty" in result.output and "Traceback" not in result.output


def test_init_accepts_an_empty_folder_and_a_course_slug(tmp_path):
    written = init_kit(tmp_path, course="intro-to-ml", title='Say "hi": a course')
    assert tmp_path / "content/intro-to-ml/course.yaml" in written
    course = load_kit(tmp_path).kit.course("intro-to-ml")
    assert course.title == 'Say "hi": a course'
    with pytest.raises(KitError, match="not valid"):
        init_kit(tmp_path / "other", course="Bad Slug")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("title, slug", [
    ("Reducing loss", "reducing-loss"),
    ("Descending into ML: Über-loss!", "descending-into-ml-uber-loss"),
    ("  L2 -- regularisation  ", "l2-regularisation"),
    ("Ça marche? Naïve Bayes", "ca-marche-naive-bayes"),
    ("日本語", ""),
])
def test_slugify(title, slug):
    assert slugify(title) == slug


@pytest.mark.parametrize("minutes", [5, 19, 20, 30, 45, 60, 89, 90, 120, 600])
def test_planned_run_of_show_adds_up(minutes):
    plan = plan_segments(minutes)
    assert sum(m for _, m, _ in plan) == minutes
    assert all(m > 0 for _, m, _ in plan)


def test_new_session_is_next_number_and_checks_without_errors(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/05-later.md": None})
    path = new_session(root, "fixture", 'Gradient descent: "why" it works')
    assert path == root / "content/fixture/02-gradient-descent-why-it-works.md"
    problems = check_kit_dir(root)
    assert [p for p in problems if p.severity == "error"] == []
    mine = [p.message for p in problems if p.path.endswith(path.name)]
    # The warnings are the author's to-do list.
    assert "the session has no objectives" in mine
    assert any("anticipates no questions" in m for m in mine)
    assert any("no timing note" in m for m in mine)
    assert any("without a formative check" in m for m in mine)
    session = load_kit(root).kit.course("fixture").session(2)
    assert session.title == 'Gradient descent: "why" it works'
    assert session.minutes == 90 and session.planned_minutes == 90  # the course's default length
    assert "TODO" in path.read_text()


def test_new_session_follows_the_highest_number_and_the_course_length(tmp_path):
    root = write_kit(tmp_path / "kit", {
        "content/fixture/course.yaml": "title: C\naudience: A\nsession_minutes: 45\n"
                                       "organisation:\n  name: O\n",
        "content/fixture/01-fixture.md": None,
        "content/fixture/07-seven.md": "---\ntitle: Seven\nminutes: 45\n---\n"
                                       "## A {minutes=45 kind=discussion}\n\nx\n",
    })
    path = new_session(root, "fixture", "Eight")
    assert path.name == "08-eight.md"
    session = load_kit(root).kit.course("fixture").session(8)
    assert session.minutes == 45 and sum(s.minutes for s in session.segments) == 45
    assert not [p for p in check_kit_dir(root) if p.severity == "error"]


def test_new_session_refusals(tmp_path):
    root = write_kit(tmp_path / "kit")
    with pytest.raises(KitError, match="no course 'nope'.*courses: fixture"):
        new_session(root, "nope", "T")
    with pytest.raises(KitError, match="file name"):
        new_session(root, "fixture", "日本語")
    (root / "content/fixture/99-last.md").write_text("---\ntitle: x\n---\n")
    with pytest.raises(KitError, match="two digits"):
        new_session(root, "fixture", "One more")
    with pytest.raises(KitError, match="not a kit"):
        new_session(tmp_path / "empty", "fixture", "T")


def test_cli_new_session_prints_the_path(tmp_path, monkeypatch):
    root = write_kit(tmp_path / "kit")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["new", "session", "fixture", "Loss curves"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "content/fixture/02-loss-curves.md"
    assert (root / "content/fixture/02-loss-curves.md").is_file()
    elsewhere = CliRunner().invoke(main, ["new", "session", "fixture", "X", str(tmp_path / "none")])
    assert elsewhere.exit_code == 1 and "not a kit" in elsewhere.output
