"""Static checks, part of the test run: ruff (rules in pyproject.toml) and mypy on kit/.

Both are in the test extras; a finding fails the run, so a `noqa` comment in kit/ means
something: it names a rule that would otherwise fail here.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_nothing_in_kit():
    result = run("ruff", "check", "--no-cache", "kit/")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_kit():
    result = run("mypy", "--no-incremental", "--cache-dir", "/dev/null", "kit/")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checks_do_fail_on_a_finding(tmp_path):
    """The control: the same commands, on a file with an unused import and a type error."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n\n\ndef f() -> int:\n    return 'text'\n")
    assert run("ruff", "check", "--no-cache", str(bad)).returncode == 1
    assert run("mypy", "--no-incremental", "--cache-dir", "/dev/null", str(bad)).returncode == 1
