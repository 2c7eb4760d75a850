"""`kit import carpentries`: a kit from a Carpentries lesson, in either of its formats.

- Workbench (sandpaper): `config.yaml` and `episodes/`, read by kit.carpentries.workbench;
- Jekyll styles (the older format): `_config.yml` and `_episodes/`, converted episode by
  episode into Workbench text by kit.carpentries.jekyll, with a line map back to the source,
  and then read the same way.

`read_lesson` gives the lesson model (kit.carpentries.lesson), `import_lesson` writes the
kit (kit.carpentries.mapping, kit.carpentries.writer). Problems name the lesson's own
files and lines; any error stops the import before a file is written.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.carpentries.lesson import Lesson
from kit.errors import KitError, Problem, Problems


@dataclass(frozen=True)
class ImportResult:
    kit_dir: Path
    course: str
    written: tuple[Path, ...]
    warnings: tuple[Problem, ...]
    counts: dict


def lesson_format(lesson_dir: Path) -> str:
    """'workbench' or 'jekyll'; a KitError for a folder that is neither."""
    if not lesson_dir.is_dir():
        raise KitError(f"{lesson_dir}: no such folder")
    if (lesson_dir / "config.yaml").is_file() and (lesson_dir / "episodes").is_dir():
        return "workbench"
    if (lesson_dir / "_config.yml").is_file() and (lesson_dir / "_episodes").is_dir():
        return "jekyll"
    raise KitError(f"{lesson_dir}: not a Carpentries lesson: a Workbench lesson has config.yaml and episodes/, "
                   "an older (Jekyll) one _config.yml and _episodes/")


def read_lesson(lesson_dir: Path, problems: Problems) -> tuple[Lesson, str]:
    """The lesson, and its language code (from its configuration; 'en' by default)."""
    from kit.carpentries import workbench

    lesson_dir = Path(lesson_dir).resolve()
    kind = lesson_format(lesson_dir)
    if kind == "workbench":
        lesson, _ = workbench.read_workbench_lesson(lesson_dir, problems)
        config = workbench.read_config(lesson_dir, "config.yaml", Problems(lesson_dir))
        return lesson, _language(config.get("lang"))
    try:
        from kit.carpentries.jekyll import read_jekyll_lesson
    except ImportError:  # pragma: no cover - while the Jekyll reader is not there
        raise KitError(f"{lesson_dir}: a lesson in the older Jekyll format, which this kit cannot read yet") from None
    converted = read_jekyll_lesson(lesson_dir, problems)
    config = workbench.read_config(lesson_dir, "_config.yml", Problems(lesson_dir))  # its problems are B's
    ctx = workbench.lesson_context(lesson_dir, config, problems)
    episodes = tuple(workbench.read_episode(ep.text, tuple(ep.lines), ep.source, ctx) for ep in converted.episodes)
    pages = [workbench.read_page(page.text, tuple(page.lines), page.source, ctx) if page is not None else None
             for page in (converted.setup, converted.instructor_notes)]
    lesson = Lesson(converted.title or lesson_dir.name, ctx.url, workbench.carpentry_name(config), "jekyll",
                    episodes, pages[0], pages[1], tuple(sorted(ctx.figures.items())))
    return lesson, _language(config.get("lang"))


def _language(value) -> str:
    import re

    return value if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value) else "en"


def _printable(language: str, lesson_dir: Path, problems: Problems) -> str:
    """The kit's language for a lesson in `language`: the same when the kit has a catalogue
    for it, else English, with a warning (translated lessons exist in languages the kit
    does not print its own words in; `kit check` would refuse the code)."""
    from kit import i18n

    if i18n.supported(language):
        return language
    config = "config.yaml" if lesson_format(lesson_dir) == "workbench" else "_config.yml"
    problems.warning(lesson_dir / config, 1, f"the lesson is in '{language}', which the kit does not print its "
                     f"own words in (it does in {', '.join(i18n.languages())}): the kit's headings and labels "
                     "will be English; the lesson's own text is kept as it is")
    return "en"


def import_lesson(lesson_dir: Path, kit_dir: Path | None = None, session_minutes: int = 90) -> ImportResult:
    """Write a kit made from the lesson in `lesson_dir` into `kit_dir` (default: a folder
    named after the lesson's, with '-kit', in the current one). Raises KitError, with every
    problem (warnings included), when there is an error; nothing is written then."""
    from kit.carpentries.mapping import plan_kit
    from kit.carpentries.writer import MARKER, earlier_files, read_figures, write_kit

    lesson_dir = Path(lesson_dir).resolve()
    if kit_dir is None:
        kit_dir = Path.cwd() / f"{lesson_dir.name}-kit"
    kit_dir = Path(kit_dir).absolute()
    problems = Problems(lesson_dir)
    lesson, language = read_lesson(lesson_dir, problems)
    language = _printable(language, lesson_dir, problems)
    plan = plan_kit(lesson, session_minutes, problems, language)
    figures = read_figures(lesson_dir, dict(lesson.figures), problems)
    earlier = earlier_files(kit_dir)
    if earlier is None:
        problems.items.append(Problem("", 0, 0, "error", f"{kit_dir}: the folder is not empty and is not an earlier "
                                                         f"import (it has no {MARKER}); import into a new folder"))
    if kit_dir.resolve() == lesson_dir or _inside(kit_dir, lesson_dir):
        problems.items.append(Problem("", 0, 0, "error", f"{kit_dir}: the kit may not be written inside the lesson"))
    if problems.errors:
        raise KitError(problems.items)
    files = {path: text.encode("utf-8") for path, text in plan.files.items()}
    for kit_path, data in figures.items():
        files[f"content/{plan.course}/{kit_path}"] = data
    written = write_kit(kit_dir, files, earlier or [])
    return ImportResult(kit_dir, plan.course, tuple(written), tuple(sorted(problems.warnings)), plan.counts)


def _inside(path: Path, folder: Path) -> bool:
    from kit.safefs import inside

    return inside(path, folder)
