"""Messages never carry a module's control characters to the terminal raw."""
from click.testing import CliRunner

from kit.cli import main
from kit.errors import Problem, escape_controls

from conftest import module, write_kit

TITLE = "\x1b]0;owned\x07"   # would retitle the terminal
CLEAR = "\x1b[2J"            # would clear the screen


def test_escape_controls_shows_c0_c1_del_and_bidi_as_escapes_and_keeps_other_text():
    assert escape_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape_controls("x\ny\tz\x7f\x9b") == "x\\x0ay\\x09z\\x7f\\x9b"
    assert escape_controls("abc\u202edef") == "abc\\u202edef"
    assert escape_controls("Grüße, 中文 — fine") == "Grüße, 中文 — fine"


def test_problem_format_escapes_path_and_message():
    line = Problem(f"content/c/{CLEAR}.md", 2, 1, "error", f"unknown key '{TITLE}'").format(with_col=True)
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b]0;owned\\x07" in line and "\\x1b[2J.md:2:1: error" in line


def test_kit_check_and_build_print_a_hostile_key_and_value_escaped(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": module(
        'title: T\nminutes: 10\n"\\e]0;owned\\a\\e[2J": 1\nobjectives: [{"\\e[2J": 2}]')})  # YAML escapes
    runner = CliRunner()
    for args in (["check", str(root)], ["build", str(root), "-o", str(tmp_path / "out"), "-q", "-j", "1"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "\\x1b]0;owned\\x07" in result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "Traceback" not in result.output


def test_a_column_is_printed_only_where_one_is_known():
    assert Problem("a.md", 3, 0, "warning", "m").format(with_col=True) == "a.md:3: warning: m"
    assert Problem("a.md", 3, 7, "warning", "m").format(with_col=True) == "a.md:3:7: warning: m"
    assert Problem("a.md", 3, 0, "warning", "m").as_dict()["col"] is None
