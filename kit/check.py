"""`kit check`: every validation of the build plus lint warnings, without rendering.

`kit_problems` is the one place where the loader's problems and the lint warnings of
`kit.checks` come together: `kit check`, `kit build` and `kit preview` all report its
answer, so that the three never disagree about a kit.
"""
from __future__ import annotations

from pathlib import Path

from kit.checks import check_kit
from kit.errors import Problem, Problems
from kit.loader import Loaded, load_kit


def kit_problems(loaded: Loaded) -> list[Problem]:
    """Every problem of a loaded kit, sorted: the loader's (and whatever was added to its
    `problems` since, such as a delivery file's) and, when there is no error, the lint
    warnings. `loaded` is not changed, so this may be called more than once."""
    problems = list(loaded.problems.items)
    if not loaded.problems.errors:
        lints = Problems(loaded.problems.root)
        check_kit(loaded.kit, lambda path, line, msg: lints.warning(loaded.root / path, line, msg))
        problems += lints.items
    return sorted(problems)


def kit_warnings(loaded: Loaded) -> list[Problem]:
    """The warnings of `kit_problems`: what `kit build` and `kit preview` show."""
    return [p for p in kit_problems(loaded) if p.severity == "warning"]


def check_kit_dir(root: Path, course: str | None = None, org: Path | None = None) -> list[Problem]:
    return kit_problems(load_kit(root, course, org))
