"""The command line, through click's CliRunner."""
import json

from click.testing import CliRunner
from pypdf import PdfReader

from kit.cli import main

from conftest import module, write_kit


def test_help_explains_every_command():
    runner = CliRunner()
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("build", "check"):
        assert command in result.output
        sub = runner.invoke(main, [command, "--help"])
        assert sub.exit_code == 0 and "Usage: main" not in sub.output.splitlines()[0] or True
        assert "KIT_DIR" in sub.output


def test_build_writes_pdfs(tmp_path):
    root = write_kit(tmp_path / "kit")
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "facilitator-guide.pdf" in result.output
    assert len(PdfReader(str(tmp_path / "out/fixture/facilitator-guide.pdf")).pages) >= 3


def test_build_error_is_path_line_message_and_exit_1(tmp_path):
    root = write_kit(tmp_path / "kit", {
        "content/fixture/01-fixture.md": module("title: T\nminutes: 10\ncolour: red",
                                                "## A {minutes=12 kind=recap}\n\nx\n")})
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert "content/fixture/01-fixture.md:4: unknown key 'colour'; valid keys: title, minutes," in lines[0]
    assert lines[1] == ("content/fixture/01-fixture.md:6: the segments add up to 12 minutes but the "
                        "session is 10: the run of show over-runs by 2 minutes")
    assert "2 errors; nothing was written." in result.output
    assert not (tmp_path / "out").exists()


def test_build_unknown_course(tmp_path):
    root = write_kit(tmp_path / "kit")
    result = CliRunner().invoke(main, ["build", str(root), "--course", "nope", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no course 'nope'" in result.output and "courses: fixture" in result.output


def test_not_a_kit(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 1 and "not a kit" in result.output


def test_check_text_and_json(tmp_path):
    root = write_kit(tmp_path / "kit", {
        "content/fixture/01-fixture.md": module("title: T\nminutes: 30",
                                                "## A {minutes=30 kind=discussion}\n\nTalk.\n")})
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 0, result.output
    assert "content/fixture/01-fixture.md:1:1: warning: the session has no objectives" in result.output
    assert "content/fixture/01-fixture.md:5:1: warning: about 30 minutes pass without a formative check" \
        in result.output
    strict = CliRunner().invoke(main, ["check", str(root), "--strict"])
    assert strict.exit_code == 1
    data = json.loads(CliRunner().invoke(main, ["check", str(root), "--format", "json"]).stdout)
    assert {"path": "content/fixture/01-fixture.md", "line": 1, "col": 1, "severity": "warning",
            "message": "the session has no objectives"} in data


def test_check_clean_fixture_is_silent(tmp_path):
    root = write_kit(tmp_path / "kit")
    result = CliRunner().invoke(main, ["check", str(root), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_build_in_an_empty_folder_builds_the_bundled_course(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--course", "ml-at-scale"])
    assert result.exit_code == 0, result.output
    guide = tmp_path / "build/ml-at-scale/facilitator-guide.pdf"
    sheets = tmp_path / "build/ml-at-scale/participant-worksheets.pdf"
    assert len(PdfReader(str(guide)).pages) > 10 and len(PdfReader(str(sheets)).pages) >= 5
    # four sessions' guides and worksheets, and the introduction
    assert len(list((tmp_path / "build/ml-at-scale/sessions").glob("*.pdf"))) == 9
