"""`kit add anecdote`: one block inserted, every other byte kept."""
import os

import pytest
from click.testing import CliRunner

from kit import cli
from kit.check import check_kit_dir
from kit.cli import main
from kit.edit import add_anecdote, find_module, split_lines
from kit.errors import KitError
from kit.loader import load_kit

from conftest import MODULE, module, write_kit

MODULE_PATH = "content/fixture/01-fixture.md"


def block(nl: str, title="The cord", point="", source="", story="Once, a participant...") -> str:
    lines = [f"::: anecdote {title}"]
    lines += [f"point: {point}"] if point else []
    lines += [f"source: {source}"] if source else []
    lines += ["", *story.split("\n"), ":::"]
    return nl.join(lines) + nl


def insert_before(original: bytes, marker: bytes, inserted: bytes) -> bytes:
    """`original` with `inserted` right before the one occurrence of `marker`."""
    assert original.count(marker) == 1
    at = original.index(marker)
    return original[:at] + inserted + original[at:]


def anecdotes(root, segment: str) -> list:
    session = load_kit(root).kit.course("fixture").sessions[0]
    seg = next(s for s in session.segments if s.title == segment)
    return list(seg.of_kind("anecdote"))


@pytest.mark.parametrize("bom, nl", [(b"", "\n"), (b"", "\r\n"), (b"\xef\xbb\xbf", "\r\n"),
                                     (b"\xef\xbb\xbf", "\n")])
def test_inserts_at_the_end_of_the_segment_and_keeps_every_other_byte(tmp_path, bom, nl):
    original = bom + MODULE.replace("\n", nl).encode()
    root = write_kit(tmp_path / "kit", {MODULE_PATH: original})
    ref = find_module(root, "01")
    added = add_anecdote(ref, "Recap", "The cord", "Once, a participant...\n\nThe end.",
                         point="Weights, not data", source="The first facilitator")
    after = (root / MODULE_PATH).read_bytes()
    # The Recap segment ends with the prompt's closing fence, then a blank line and '## Pair flip'.
    inserted = (nl + block(nl, point="Weights, not data", source="The first facilitator",
                           story="Once, a participant...\n\nThe end.")).encode()
    assert after == insert_before(original, f"{nl}## Pair flip".encode(), inserted)
    assert added.segment == "Recap"
    new = anecdotes(root, "Recap")
    assert [(a.title, a.point, a.source, a.story) for a in new] == [
        ("The cord", "Weights, not data", "The first facilitator", "Once, a participant...\n\nThe end.")]
    assert new[0].src.line == added.line
    assert check_kit_dir(root) == []  # still clean, not even a warning more
    assert sorted(p.name for p in (root / "content/fixture").iterdir()) == ["01-fixture.md", "course.yaml"]


def test_last_segment_of_a_file_without_a_final_newline(tmp_path):
    original = MODULE.rstrip("\n").replace("\n", "\r\n").encode()
    root = write_kit(tmp_path / "kit", {MODULE_PATH: original})
    add_anecdote(find_module(root, "fixture"), "wrap-up", "The cord", "Once, a participant...")
    after = (root / MODULE_PATH).read_bytes()
    assert after == original + ("\r\n\r\n" + block("\r\n")).rstrip("\r\n").encode()
    assert [a.title for a in anecdotes(root, "Wrap-up")] == ["The cord"]


def test_blank_lines_after_the_segment_stay_before_the_next_heading(tmp_path):
    text = module("title: T\nminutes: 10",
                  "## A {minutes=5 kind=discussion}\n\nTalk A.\n\n\n\n## B {minutes=5 kind=discussion}\n\nB.\n")
    root = write_kit(tmp_path / "kit", {MODULE_PATH: text})
    add_anecdote(find_module(root, "1"), "A", "T", "Story.")
    after = (root / MODULE_PATH).read_text()
    assert after == text.replace("Talk A.\n", "Talk A.\n\n::: anecdote T\n\nStory.\n:::\n")


def test_headings_inside_code_are_not_segments(tmp_path):
    body = ("## A {minutes=5 kind=discussion}\n\n```markdown\n## Not a heading {minutes=1 kind=recap}\n"
            "```\n\n## B {minutes=5 kind=discussion}\n\nB.\n")
    text = module("title: T\nminutes: 10", body)
    root = write_kit(tmp_path / "kit", {MODULE_PATH: text})
    with pytest.raises(KitError, match="no segment called 'Not a heading'"):
        add_anecdote(find_module(root, "1"), "Not a heading", "T", "Story.")
    add_anecdote(find_module(root, "1"), "A", "T", "Story.")
    after = (root / MODULE_PATH).read_text()
    assert after == text.replace("```\n\n## B", "```\n\n::: anecdote T\n\nStory.\n:::\n\n## B")


def test_fields_that_yaml_would_misread_are_quoted(tmp_path):
    root = write_kit(tmp_path / "kit")
    add_anecdote(find_module(root, "1"), "Pair flip", "Odd: fields", "Note: this looks like a field.",
                 point="yes", source="Ana # the teacher", retell="- as a list?")
    found = [a for a in anecdotes(root, "Pair flip") if a.title == "Odd: fields"]
    assert [(a.point, a.source, a.retell, a.story) for a in found] == [
        ("yes", "Ana # the teacher", "- as a list?", "Note: this looks like a field.")]


def test_unknown_segment_lists_the_segments_and_changes_nothing(tmp_path):
    root = write_kit(tmp_path / "kit")
    before = (root / MODULE_PATH).read_bytes()
    with pytest.raises(KitError) as info:
        add_anecdote(find_module(root, "1"), "Recapp", "T", "Story.")
    message = str(info.value)
    assert "no segment called 'Recapp'" in message
    assert "'Recap'; 'Pair flip'; 'Wrap-up'" in message
    assert (root / MODULE_PATH).read_bytes() == before


@pytest.mark.parametrize("story, error", [
    ("Fine.\n:::\nmore", "':::' fence"),
    ("## Heading\nstory", "'##' heading"),
    ("   \n", "no story"),
])
def test_a_story_that_would_break_the_module_is_refused(tmp_path, story, error):
    root = write_kit(tmp_path / "kit")
    before = (root / MODULE_PATH).read_bytes()
    with pytest.raises(KitError, match=error):
        add_anecdote(find_module(root, "1"), "Recap", "T", story)
    assert (root / MODULE_PATH).read_bytes() == before


def test_a_module_with_errors_is_not_edited(tmp_path):
    text = module("title: T\nminutes: 10", "## A {minutes=12 kind=discussion}\n\nx\n")
    root = write_kit(tmp_path / "kit", {MODULE_PATH: text})
    with pytest.raises(KitError) as info:
        add_anecdote(find_module(root, "1"), "A", "T", "Story.")
    assert "add up to 12 minutes" in str(info.value)
    assert "fix these errors first" in str(info.value)
    assert (root / MODULE_PATH).read_text() == text


def test_the_write_is_atomic_and_keeps_the_file_mode(tmp_path):
    root = write_kit(tmp_path / "kit")
    path = root / MODULE_PATH
    os.chmod(path, 0o640)
    inode = path.stat().st_ino
    add_anecdote(find_module(root, "1"), "Recap", "T", "Story.")
    assert path.stat().st_mode & 0o777 == 0o640
    assert path.stat().st_ino != inode  # a new file was renamed into place
    assert sorted(p.name for p in path.parent.iterdir()) == ["01-fixture.md", "course.yaml"]


def test_find_module_by_number_slug_stem_and_path(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/02-second.md": module()})
    for key in ("2", "02", "second", "02-second", "02-second.md"):
        assert find_module(root, key).path == root / "content/fixture/02-second.md"
    ref = find_module(tmp_path, str(root / "content/fixture/02-second.md"))
    assert (ref.root, ref.course, ref.number, ref.slug) == (root, "fixture", 2, "second")
    with pytest.raises(KitError, match="no session '3'.*sessions: 01-fixture, 02-second"):
        find_module(root, "3")
    write_kit(root, {"content/other/course.yaml": "title: O\n"}, defaults=False)
    with pytest.raises(KitError, match="2 courses; say which with --course: fixture, other"):
        find_module(root, "1")
    assert find_module(root, "1", course="fixture").slug == "fixture"


def test_split_lines_keeps_every_ending():
    text = "a\r\nb\rc\n\nd"
    assert split_lines(text) == ["a\r\n", "b\r", "c\n", "\n", "d"]
    assert "".join(split_lines(text)) == text


def test_cli_story_from_stdin_file_and_editor(tmp_path, monkeypatch):
    root = write_kit(tmp_path / "kit")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["add", "anecdote", "1", "--segment", "Recap", "--title", "From stdin",
                                       "--point", "P", "--source", "S"], input="Told on stdin.\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{MODULE_PATH}:")
    assert "added anecdote 'From stdin' to segment 'Recap'" in result.output

    story = tmp_path / "story.md"
    story.write_text("Told from a file.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["add", "anecdote", MODULE_PATH, "--segment", "Wrap-up",
                                       "--title", "From a file", "--from-file", str(story)])
    assert result.exit_code == 0, result.output

    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    monkeypatch.setattr(cli.click, "edit", lambda text, **kw: text + "Told in the editor.\n")
    result = CliRunner().invoke(main, ["add", "anecdote", "fixture", "--segment", "Pair flip",
                                       "--title", "From the editor"])
    assert result.exit_code == 0, result.output
    stories = {a.title: a.story for seg in ("Recap", "Wrap-up", "Pair flip") for a in anecdotes(root, seg)}
    assert stories["From stdin"] == "Told on stdin."
    assert stories["From a file"] == "Told from a file."
    assert stories["From the editor"] == "Told in the editor."

    monkeypatch.setattr(cli.click, "edit", lambda text, **kw: None)
    result = CliRunner().invoke(main, ["add", "anecdote", "1", "--segment", "Recap", "--title", "X"])
    assert result.exit_code == 1 and "without saving" in result.output

    result = CliRunner().invoke(main, ["add", "anecdote", "1", "--segment", "Nope", "--title", "X",
                                       "--from-file", str(story)])
    assert result.exit_code == 1 and "the segments are: 'Recap'" in result.output
    assert "Traceback" not in result.output
