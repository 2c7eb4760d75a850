"""`kit add anecdote`: one block inserted, every other byte kept."""
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit import cli
from kit.check import check_kit_dir
from kit.cli import main
from kit.edit import ModuleRef, add_anecdote, find_module, split_lines
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


# --- hostile stories and module files: a clear error, and the module as it was -------------

@pytest.mark.parametrize("story, error", [
    ("Before.\nA NUL \x00 here.", r"the story contains a NUL character \(on its line 2\)"),
    ("x" * (1024 * 1024 + 1), "the story is larger than 1 MiB"),
    ("é" * (512 * 1024 + 1), "the story is larger than 1 MiB"),  # counted in bytes, not characters
    ("Bad byte \udcff from a latin-1 file", "the story is not valid UTF-8"),
    (b"Latin-1: caf\xe9\n", r"the story is not valid UTF-8 \(byte 0xe9 on its line 1\)"),
    (b"One\nTwo \x00\n", r"NUL character \(on its line 2\)"),
    (b"y" * (1024 * 1024 + 1), "the story is larger than 1 MiB"),
])
def test_a_story_with_a_nul_too_large_or_not_utf8_is_refused(tmp_path, story, error):
    root = write_kit(tmp_path / "kit")
    before = (root / MODULE_PATH).read_bytes()
    with pytest.raises(KitError, match=error):
        add_anecdote(find_module(root, "1"), "Recap", "T", story)
    assert (root / MODULE_PATH).read_bytes() == before


def test_a_story_given_as_utf8_bytes_is_added(tmp_path):
    root = write_kit(tmp_path / "kit")
    add_anecdote(find_module(root, "1"), "Recap", "Bytes", b"\xef\xbb\xbfCaf\xc3\xa9 story.\n")
    assert [a.story for a in anecdotes(root, "Recap") if a.title == "Bytes"] == ["Café story."]


@pytest.mark.parametrize("field", ["title", "point", "source", "retell"])
@pytest.mark.parametrize("value, error", [("a\x00b", "contains a NUL character"),
                                          ("a\udcffb", "is not valid UTF-8")])
def test_a_field_with_a_nul_or_an_undecodable_byte_is_refused(tmp_path, field, value, error):
    root = write_kit(tmp_path / "kit")
    before = (root / MODULE_PATH).read_bytes()
    fields = {"title": "T", field: value}
    with pytest.raises(KitError, match=f"the anecdote's {field} {error}"):
        add_anecdote(find_module(root, "1"), "Recap", fields.pop("title"), "Story.", **fields)
    assert (root / MODULE_PATH).read_bytes() == before


def test_a_story_that_would_grow_the_module_past_1_mib_is_refused(tmp_path):
    padding = "Padding line of the overview.\n" * ((1024 * 1024 - 4096) // 30)
    text = MODULE.replace("FAC-OVERVIEW of the session.\n", "FAC-OVERVIEW of the session.\n\n" + padding)
    root = write_kit(tmp_path / "kit", {MODULE_PATH: text})
    before = (root / MODULE_PATH).read_bytes()
    assert len(before) < 1024 * 1024
    with pytest.raises(KitError, match="with the anecdote, the file is larger than 1 MiB"):
        add_anecdote(find_module(root, "1"), "Recap", "T", "A long story. " * 800)
    assert (root / MODULE_PATH).read_bytes() == before


@pytest.mark.parametrize("how", ["path", "number"])
def test_a_module_that_is_a_symbolic_link_is_never_written_through(tmp_path, how):
    outside = tmp_path / "elsewhere" / "01-fixture.md"
    outside.parent.mkdir()
    outside.write_text(MODULE, encoding="utf-8")
    root = write_kit(tmp_path / "kit", {MODULE_PATH: None})
    link = root / MODULE_PATH
    link.symlink_to(outside)
    session = str(link) if how == "path" else "1"
    with pytest.raises(KitError, match="01-fixture.md: the module is a symbolic link"):
        add_anecdote(find_module(root, session), "Recap", "T", "Story.")
    assert outside.read_text(encoding="utf-8") == MODULE
    assert link.is_symlink() and os.readlink(link) == str(outside)
    assert sorted(p.name for p in link.parent.iterdir()) == ["01-fixture.md", "course.yaml"]


def test_a_module_path_through_a_linked_folder_outside_the_content_is_refused(tmp_path):
    # content/fixture is a link to a course folder in another place: its modules are not the kit's.
    other = write_kit(tmp_path / "other")
    root = write_kit(tmp_path / "kit", defaults=False, files={"content/.keep": ""})
    (root / "content/fixture").symlink_to(other / "content/fixture")
    before = (other / MODULE_PATH).read_bytes()
    ref = find_module(root, str(root / MODULE_PATH))
    assert ref.root == root
    with pytest.raises(KitError, match="lies outside the kit's content/ folder"):
        add_anecdote(ref, "Recap", "T", "Story.")
    assert (other / MODULE_PATH).read_bytes() == before


def test_a_read_only_module_is_not_replaced(tmp_path):
    root = write_kit(tmp_path / "kit")
    path = root / MODULE_PATH
    before, inode = path.read_bytes(), path.stat().st_ino
    os.chmod(path, 0o444)
    try:
        with pytest.raises(KitError, match="01-fixture.md: the module is read-only"):
            add_anecdote(find_module(root, "1"), "Recap", "T", "Story.")
        assert path.read_bytes() == before and path.stat().st_ino == inode
        assert path.stat().st_mode & 0o777 == 0o444
    finally:
        os.chmod(path, 0o644)


def test_a_module_the_user_may_not_write_is_not_replaced(tmp_path, monkeypatch):
    # The user lacks write access although the file has write bits (another owner, say).
    root = write_kit(tmp_path / "kit")
    path = root / MODULE_PATH
    before, inode = path.read_bytes(), path.stat().st_ino
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode & os.W_OK and Path(p) == path
                        else real_access(p, mode, **kw))
    with pytest.raises(KitError, match="the module is read-only"):
        add_anecdote(find_module(root, "1"), "Recap", "T", "Story.")
    assert path.read_bytes() == before and path.stat().st_ino == inode


def test_a_module_that_is_not_a_regular_file_is_refused(tmp_path):
    # A folder with a module's name (a FIFO would do too, but reading one blocks a broken test).
    root = write_kit(tmp_path / "kit")
    folder = root / "content/fixture/02-folder.md"
    folder.mkdir()
    ref = ModuleRef(root, "fixture", folder, 2, "folder")
    with pytest.raises(KitError, match="02-folder.md: not a regular file"):
        add_anecdote(ref, "Recap", "T", "Story.")
    assert folder.is_dir() and not list(folder.iterdir())


def test_cli_reports_hostile_stories_and_modules_without_a_traceback(tmp_path, monkeypatch):
    root = write_kit(tmp_path / "kit")
    monkeypatch.chdir(root)
    before = (root / MODULE_PATH).read_bytes()
    args = ["add", "anecdote", "1", "--segment", "Recap", "--title", "T"]
    latin = tmp_path / "latin1.md"
    latin.write_bytes(b"Caf\xe9.\n")
    big = tmp_path / "big.md"
    big.write_bytes(b"z" * (2 * 1024 * 1024))
    runs = {
        "stdin NUL": (CliRunner().invoke(main, args, input=b"A \x00 story.\n"), "NUL character"),
        "stdin latin-1": (CliRunner().invoke(main, args, input=b"Caf\xe9.\n"), "not valid UTF-8 (byte 0xe9"),
        "file latin-1": (CliRunner().invoke(main, args + ["--from-file", str(latin)]), "not valid UTF-8"),
        "file too big": (CliRunner().invoke(main, args + ["--from-file", str(big)]), "larger than 1 MiB"),
    }
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)

    def editor_saves_latin1(text, **kwargs):
        raise UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte")
    monkeypatch.setattr(cli.click, "edit", editor_saves_latin1)
    runs["editor latin-1"] = (CliRunner().invoke(main, args), "not valid UTF-8")
    for name, (result, message) in runs.items():
        assert result.exit_code == 1, (name, result.output)
        assert message in result.output, (name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exc_info)
        assert "Traceback" not in result.output
    assert (root / MODULE_PATH).read_bytes() == before

    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: False)
    os.chmod(root / MODULE_PATH, 0o444)
    try:
        result = CliRunner().invoke(main, args, input="A story.\n")
    finally:
        os.chmod(root / MODULE_PATH, 0o644)
    assert result.exit_code == 1 and result.output.startswith(f"{MODULE_PATH}: the module is read-only"), \
        result.output
    assert (root / MODULE_PATH).read_bytes() == before
