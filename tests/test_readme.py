"""The README's example module is real: it loads without error and passes the lint checks."""
import re
from pathlib import Path

from kit.check import check_kit_dir

from conftest import write_kit

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_module_is_valid(tmp_path):
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example-module -->\n````markdown\n(.*?)\n````", text, re.S)
    assert match, "the README lost its example module"
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": match.group(1) + "\n"})
    (root / "content/fixture/course.yaml").write_text(
        (root / "content/fixture/course.yaml").read_text().replace("id: widget", "id: inbox"))
    problems = check_kit_dir(root)
    assert [p.format() for p in problems] == []


def test_ci_runs_the_readmes_test_command_and_nothing_else():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Run the tests", 1)[1]
    command = re.search(r"```sh\n(.*?)\n```", section, re.S).group(1).strip()
    assert "tests/system-packages.sh" in command  # the command does its own set-up
    ci = (README.parent / ".ci/run").read_text(encoding="utf-8")
    steps = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert steps[-1] == command
    assert all(step in ("set -euo pipefail", 'cd "$(dirname "$0")/.."', "rm -rf .venv") for step in steps[:-1])
