"""`kit check`: every validation of the build plus lint warnings, without rendering."""
from __future__ import annotations

from pathlib import Path

from kit.checks import check_kit
from kit.errors import Problem
from kit.loader import load_kit


def check_kit_dir(root: Path, course: str | None = None, org: Path | None = None) -> list[Problem]:
    loaded = load_kit(root, course, org)
    problems = loaded.problems
    if not problems.errors:
        check_kit(loaded.kit, lambda path, line, msg: problems.warning(root / path, line, msg))
    return sorted(problems.items)
