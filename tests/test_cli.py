"""The command line, through click's CliRunner."""
import json

import click
from click.testing import CliRunner
from pypdf import PdfReader

from kit.cli import main
from kit.errors import Problem

from conftest import cached_copy, module, write_kit
from kits import TINY_KIT
from pdftext import pages_text

# A small session whose only lint warnings (kit.checks) are two: an http: pre-work link
# (line 6) and an http: link in the text (line 13). Everything else a clean session has
# (objectives, a question with its answer, a cut after the midpoint, a timing note) is
# there, so nothing else warns. Each leaves the kit valid: build renders it.
LINTED = module(
    "title: Linted\nminutes: 10\nobjectives: [Read the notes]\n"
    "prework:\n  - title: Video\n    url: http://example.org/video\n    minutes: 5\n    kind: video",
    "## Notes {minutes=10 kind=discussion}\n\nSee [the notes](http://example.org/notes).\n\n"
    "::: question\nWhy?\n\n:::: answer\nBecause.\n::::\n:::\n\n"
    "::: cut Skip the notes\nsaves: 2\n:::\n\n::: timing\nadd: another question\n:::\n")


def cached(shared, tmp_path):
    """A copy of a shared build's kit, and an output folder with its cache only (cached_copy).
    `kit build` rendering for real, through the command line, is
    test_build_in_an_empty_folder_builds_the_bundled_course."""
    root, out, _ = shared
    return cached_copy(root, out, tmp_path)


def test_help_explains_every_command():
    runner = CliRunner()
    result = runner.invoke(main, ["--help"], prog_name="kit")
    assert result.exit_code == 0
    for command in ("build", "check"):
        assert command in result.output
        sub = runner.invoke(main, [command, "--help"], prog_name="kit")
        assert sub.exit_code == 0, sub.output
        assert sub.output.splitlines()[0] == f"Usage: kit {command} [OPTIONS] [KIT_DIR]"
        assert "KIT_DIR" in sub.output


def test_build_writes_pdfs(tmp_path, shared_builds):
    root, out = cached(shared_builds.get(TINY_KIT), tmp_path)  # the tiny kit of test_output_folder
    assert not (out / "fixture").exists()
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-j", "1"])
    assert result.exit_code == 0, result.output
    assert "facilitator-guide.pdf" in result.output
    assert len(PdfReader(str(out / "fixture/facilitator-guide.pdf")).pages) >= 3


def test_build_error_is_path_line_message_and_exit_1(tmp_path):
    root = write_kit(tmp_path / "kit", {
        "content/fixture/01-fixture.md": module("title: T\nminutes: 10\ncolour: red",
                                                "## A {minutes=12 kind=recap}\n\nx\n")})
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(tmp_path / "out"), "-j", "1"])
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
    result = CliRunner().invoke(main, ["build", str(root), "--course", "nope", "-o", str(tmp_path / "o"), "-j", "1"])
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
    assert "content/fixture/01-fixture.md:1: warning: the session has no objectives" in result.output
    assert "content/fixture/01-fixture.md:5: warning: about 30 minutes pass without a formative check" \
        in result.output
    strict = CliRunner().invoke(main, ["check", str(root), "--strict"])
    assert strict.exit_code == 1
    data = json.loads(CliRunner().invoke(main, ["check", str(root), "--format", "json"]).stdout)
    assert {"path": "content/fixture/01-fixture.md", "line": 1, "col": None, "severity": "warning",
            "message": "the session has no objectives"} in data


def test_check_clean_fixture_is_silent(tmp_path):
    root = write_kit(tmp_path / "kit")
    result = CliRunner().invoke(main, ["check", str(root), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_build_in_an_empty_folder_builds_the_bundled_course(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "--course", "ml-at-scale", "-j", "1"])
    assert result.exit_code == 0, result.output
    guide = tmp_path / "build/ml-at-scale/facilitator-guide.pdf"
    sheets = tmp_path / "build/ml-at-scale/participant-worksheets.pdf"
    assert len(PdfReader(str(guide)).pages) > 10 and len(PdfReader(str(sheets)).pages) >= 5
    # four sessions' guides and worksheets, and the introduction
    sessions = sorted((tmp_path / "build/ml-at-scale/sessions").glob("*.pdf"))
    assert len(sessions) == 9
    # Each session's first page holds all of its opener (objectives, pre-work, preparation):
    # the run sheet is the second page.
    for guide in (p for p in sessions if p.name.endswith("-guide.pdf") and not p.name.startswith("00-")):
        pages = pages_text(guide)
        assert "RUN SHEET · KEEP IT ON THE TABLE" in pages[1], guide.name


def check_warnings(root) -> list[str]:
    """`kit check`'s warnings, each as the `path:line: warning: message` line build prints."""
    result = CliRunner().invoke(main, ["check", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    return [Problem(**{**p, "col": p["col"] or 0}).format() for p in json.loads(result.stdout)
            if p["severity"] == "warning"]


def test_build_shows_the_warnings_of_check_and_strict_stops_it_before_writing(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": LINTED})
    out = tmp_path / "out"
    warnings = check_warnings(root)
    assert [w.split(": warning: ")[1] for w in warnings] == [
        "pre-work link is not https: http://example.org/video", "link is not https: http://example.org/notes"]
    checked = CliRunner().invoke(main, ["check", str(root)])
    assert checked.stdout.splitlines() == warnings  # no column is known, so none is printed

    # --strict: the warnings, one line saying nothing was written, exit 1; and nothing is.
    strict = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "--strict", "-j", "1"])
    assert strict.exit_code == 1, strict.output
    assert strict.stderr.splitlines() == warnings + ["2 warnings and --strict; nothing was written."]
    assert "wrote" not in strict.output and not out.exists()

    # Without it, the same lines, and the PDFs.
    built = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "-j", "1"])
    assert built.exit_code == 0, built.output
    assert built.stderr.splitlines() == warnings
    guide = out / "fixture/facilitator-guide.pdf"
    stamp = guide.stat().st_mtime_ns

    # An unchanged kit is not rendered again, and --strict refuses it just the same.
    again = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "--strict", "-j", "1"])
    assert again.exit_code == 1 and again.stderr.splitlines()[:-1] == warnings
    assert guide.stat().st_mtime_ns == stamp


def test_build_strict_on_a_kit_without_warnings_builds(tmp_path, fixture_build):
    root, out = cached(fixture_build, tmp_path)  # the fixture kit (write_kit's), which has no warnings
    assert not (out / "fixture").exists()
    result = CliRunner().invoke(main, ["build", str(root), "-o", str(out), "--strict", "-q", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == "" and (out / "fixture/facilitator-guide.pdf").is_file()


def commands(group: click.Group, prefix: tuple = ()):
    """Every command of the CLI, by its full name ('add anecdote')."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, prefix + (name,))
        else:
            yield " ".join(prefix + (name,)), command


SHARED_OPTIONS = {  # each option, and the commands that take it
    "--course": {"build", "check", "preview", "export", "announce", "add anecdote", "debrief", "report", "run"},
    "--org": {"build", "check", "preview"},
    "--delivery": {"build", "preview", "announce", "debrief", "run"},
    "--kit": {"announce", "add anecdote", "debrief"},
    "--strict": {"build", "check"},
    "--debriefs": {"build", "check", "report"},
}
# `kit init --course` names the course it creates (with a default): another option of the same name.
NOT_SHARED = {("init", "--course")}


def _declaration(param: click.Parameter) -> str:
    """What makes two declarations of a parameter the same: all but the command it is on."""
    info = param.to_info_dict()
    return json.dumps(info, sort_keys=True, default=repr) + repr(param.callback)


def test_shared_options_are_the_same_option_in_every_command():
    found: dict[str, dict[str, click.Parameter]] = {}
    for name, command in commands(main):
        for param in command.params:
            for opt in SHARED_OPTIONS:
                if opt in param.opts and (name, opt) not in NOT_SHARED:
                    found.setdefault(opt, {})[name] = param
    assert {opt: set(params) for opt, params in found.items()} == SHARED_OPTIONS
    for opt, params in found.items():
        helps = {name: param.help for name, param in params.items()}
        assert len(set(helps.values())) == 1, (opt, helps)
        assert len({_declaration(p) for p in params.values()}) == 1, opt


def test_the_kit_folder_argument_is_the_same_in_every_command():
    found = {name: param for name, command in commands(main) for param in command.params
             if isinstance(param, click.Argument) and param.name == "kit_dir"}
    assert set(found) == {"build", "check", "preview", "export", "new session", "report", "run"}
    assert len({_declaration(p) for p in found.values()}) == 1
    kit_option = next(p for p in main.commands["announce"].params if p.name == "kit_dir")
    assert kit_option.type.to_info_dict() == found["build"].type.to_info_dict()
