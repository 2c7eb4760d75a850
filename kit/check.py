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


def kit_problems(loaded: Loaded, debriefs: list | None = None) -> list[Problem]:
    """Every problem of a loaded kit, sorted: the loader's (and whatever was added to its
    `problems` since, such as a delivery file's or a debrief's) and, when there is no
    error, the lint warnings and those of the debriefs of earlier deliveries (segments
    that overran, sessions rated low). `loaded` is not changed, so this may be called
    more than once."""
    from kit.debrief import calibration

    problems = list(loaded.problems.items)
    if not loaded.problems.errors:
        lints = Problems(loaded.problems.root)
        check_kit(loaded.kit, lambda path, line, msg: lints.warning(loaded.root / path, line, msg))
        for course in loaded.kit.courses if debriefs else ():
            calibration(course, debriefs or [], lints, root=loaded.root)
        problems += lints.items
    return sorted(problems)


def kit_warnings(loaded: Loaded, debriefs: list | None = None) -> list[Problem]:
    """The warnings of `kit_problems`: what `kit build` and `kit preview` show."""
    return [p for p in kit_problems(loaded, debriefs) if p.severity == "warning"]


def read_debriefs(folder: Path, loaded: Loaded) -> list:
    """The debriefs under `folder`, checked against the loaded kit; their problems join the
    kit's (so that an error stops a build as a module's would)."""
    from kit.debrief import load_debriefs

    return load_debriefs(Path(folder), loaded.kit, loaded.problems)


def check_kit_dir(root: Path, course: str | None = None, org: Path | None = None,
                  debriefs: Path | None = None) -> list[Problem]:
    loaded = load_kit(root, course, org)
    found = read_debriefs(debriefs, loaded) if debriefs else None
    return kit_problems(loaded, found)
