"""The `kit` command. Thin: each command parses options and calls one core function.

This is the one place where a `KitError` becomes a message on stderr and exit 1.
Nothing here imports WeasyPrint; `kit build` loads it only when it renders.
"""
from __future__ import annotations

from pathlib import Path

import click

from kit import __version__
from kit.errors import KitError


class KitClickError(click.ClickException):
    """Prints every problem as `path:line: message`, exit status 1."""

    exit_code = 1

    def __init__(self, error: KitError):
        super().__init__(str(error))
        self.error = error

    def show(self, file=None) -> None:
        for problem in self.error.problems:
            click.echo(problem.format(), file=file, err=file is None)
        errors = len([p for p in self.error.problems if p.severity == "error"])
        if errors > 1:
            click.echo(f"{errors} errors; nothing was written.", file=file, err=file is None)


def run(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except KitError as error:
        raise KitClickError(error) from None


KIT_DIR = click.argument("kit_dir", required=False, type=click.Path(file_okay=False, path_type=Path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kit")
def main() -> None:
    """Facilitator Kit: compile a course written as Markdown modules into a printable
    facilitator guide and participant worksheets.

    KIT_DIR is a folder with content/ (and optionally templates/). Without it, kit uses
    the current folder if it has content/, else the bundled course.
    """


@main.command()
@KIT_DIR
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), default=Path("build"),
              show_default=True, help="Folder the PDFs are written to.")
@click.option("--course", metavar="SLUG", help="Build only this course (its folder name under content/).")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size.")
@click.option("--org", "org", type=click.Path(dir_okay=False, path_type=Path),
              help="Organisation profile (YAML) whose products the examples use.")
@click.option("--delivery", type=click.Path(dir_okay=False, path_type=Path),
              help="Delivery file (YAML): cohort, room, first date, start time; prints real dates and times.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes that render documents in parallel (default: one per core).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build(kit_dir, out, course, paper, org, delivery, jobs, quiet) -> None:
    """Build the facilitator guide and participant worksheets of every course.

    Writes OUT/<course>/facilitator-guide.pdf, OUT/<course>/participant-worksheets.pdf
    and one PDF per session under OUT/<course>/sessions/. Nothing is written if any
    module has an error. Documents that did not change since the last build into OUT
    are taken from OUT/.kit-cache instead of being rendered again.
    """
    import sys

    from kit.build import BuildOptions, build as build_kit
    from kit.paths import find_kit

    root = find_kit(kit_dir)
    options = BuildOptions(out=out, course=course, paper=paper, org=org, delivery=delivery, jobs=jobs or 0)
    if quiet or not sys.stderr.isatty():
        result = run(build_kit, root, options)
    else:
        with click.progressbar(length=1, label="Rendering", file=sys.stderr,
                               item_show_func=lambda label: label) as bar:
            def progress(done: int, total: int, label: str) -> None:
                bar.length = total
                bar.update(done - bar.pos, label.rsplit("/", 1)[-1])
            result = run(build_kit, root, options, progress)
    if not quiet:
        for warning in result.warnings:
            click.echo(warning.format(), err=True)
        whole = [p for p in result.written if p.parent.name != "sessions"]
        for path in whole:
            click.echo(f"wrote {_show(path)}")
        fresh = len(result.rendered)
        click.echo(f"{len(result.written)} PDFs in {_show(Path(out))} "
                   f"({fresh} documents rendered, the rest unchanged)")


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@main.command()
@KIT_DIR
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format: editor-friendly lines or a JSON list.")
@click.option("--course", metavar="SLUG", help="Check only this course.")
@click.option("--org", "org", type=click.Path(dir_okay=False, path_type=Path),
              help="Also list sessions with no example for this organisation's products.")
def check(kit_dir, strict, fmt, course, org) -> None:
    """Validate the kit without rendering: errors and lint warnings as path:line:col lines."""
    import json

    from kit.check import check_kit_dir
    from kit.paths import find_kit

    problems = run(check_kit_dir, find_kit(kit_dir), course, org)
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in problems], indent=2))
    else:
        for p in problems:
            click.echo(p.format(with_col=True))
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        click.echo(f"{errors} errors, {warnings} warnings", err=True)
    if any(p.severity == "error" for p in problems) or (strict and problems):
        raise SystemExit(1)
