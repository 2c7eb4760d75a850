"""The `kit` command. Thin: each command parses options and calls one core function.

This is the one place where a `KitError` becomes a message on stderr and exit 1.
Nothing here imports WeasyPrint; `kit build` loads it only when it renders.
"""
from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from kit import __version__
from kit.errors import KitError, escape_controls

if TYPE_CHECKING:
    from pathlib import Path


def _path(value) -> "Path":
    """pathlib is imported when a path is used, so that `kit --help` starts about as fast
    as click itself (pathlib is a fifth of the command's import time)."""
    from pathlib import Path

    return Path(value)


def _as_path(ctx, param, value):
    """A path option's or argument's value as a Path (None when not given)."""
    return None if value is None else _path(value)


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
        warnings = len(self.error.problems) - errors
        if errors > 1:
            click.echo(f"{errors} errors; nothing was written.", file=file, err=file is None)
        elif not errors and warnings:  # only `--strict` stops on warnings alone
            click.echo(f"{warnings} warning{'s' if warnings != 1 else ''} and --strict; nothing was written.",
                       file=file, err=file is None)


def run(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except KitError as error:
        raise KitClickError(error) from None


# The argument and options several commands take, each declared once here: a command that
# takes one uses this one, so that its name, type and help read the same in every command.
KIT_DIR = click.argument("kit_dir", required=False, type=click.Path(file_okay=False), callback=_as_path)
KIT_OPTION = click.option("--kit", "kit_dir", type=click.Path(file_okay=False), callback=_as_path,
                          help="The kit folder, as KIT_DIR (see `kit --help`).")
COURSE = click.option("--course", metavar="SLUG", help="Only this course (its folder name under content/).")
ORG = click.option("--org", "org", type=click.Path(dir_okay=False), callback=_as_path,
                   help="Organisation profile (YAML) whose products the examples use; each session "
                        "with no example for them is a warning.")
DELIVERY = click.option("--delivery", type=click.Path(dir_okay=False), callback=_as_path,
                        help="Delivery file (YAML): cohort, room, first date, start time; shows each "
                             "session's real date, times and room.")
STRICT = click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too, as on errors.")
DEBRIEFS = click.option("--debriefs", type=click.Path(file_okay=False), callback=_as_path,
                        help="Folder of debrief files from earlier deliveries (see `kit debrief`).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kit")
def main() -> None:
    """Facilitator Kit: compile a course written as Markdown modules into a printable
    facilitator guide and participant worksheets.

    KIT_DIR (or --kit) is a folder with content/ (and optionally templates/). Without it,
    kit uses the current folder if it has content/, else the bundled course; the commands
    that write into a kit (new, add) use the current folder.
    """


@main.command()
@KIT_DIR
@click.option("-o", "--out", type=click.Path(file_okay=False), callback=_as_path, default="build",
              show_default=True, help="Folder the PDFs are written to.")
@COURSE
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size.")
@ORG
@DELIVERY
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes that render documents in parallel (default: one per core).")
@STRICT
@DEBRIEFS
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build(kit_dir, out, course, paper, org, delivery, jobs, strict, debriefs, quiet) -> None:
    """Build the facilitator guide and participant worksheets of every course.

    Writes OUT/<course>/facilitator-guide.pdf, OUT/<course>/participant-worksheets.pdf
    and one PDF per session under OUT/<course>/sessions/. Nothing is written if any
    module has an error (with --strict, a warning). The warnings are those of
    `kit check`. Documents that did not change since the last build into OUT
    are taken from OUT/.kit-cache instead of being rendered again. With --debriefs,
    each segment's heading in the guide also says what it took in earlier deliveries.
    """
    import sys

    from kit.build import BuildOptions, build as build_kit
    from kit.paths import find_kit

    root = find_kit(kit_dir)
    options = BuildOptions(out=out, course=course, paper=paper, org=org, delivery=delivery, jobs=jobs or 0,
                           strict=strict, debriefs=debriefs)
    with _stopped_cleanly():
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
        click.echo(f"{len(result.written)} PDFs in {_show(_path(out))} "
                   f"({fresh} documents rendered, the rest unchanged)")


class _Stop(KeyboardInterrupt):
    """SIGTERM, taken the way Ctrl-C is."""

    signal = 15


@contextlib.contextmanager
def _stopped_cleanly():
    """Ctrl-C and SIGTERM end a build the same way: the workers are stopped, outputs not yet
    renamed into place are never written, and one line says so (no traceback)."""
    import signal

    def terminate(signum, frame):
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except KeyboardInterrupt as stop:
        click.echo("kit build: stopped; the PDFs from earlier builds are as they were", err=True)
        raise SystemExit(128 + getattr(stop, "signal", 2)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show(path: Path) -> str:
    try:
        shown = str(path.resolve().relative_to(_path(".").resolve()))
    except ValueError:
        shown = str(path)
    return escape_controls(shown)


@main.command()
@KIT_DIR
@STRICT
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format: editor-friendly lines or a JSON list.")
@COURSE
@ORG
@DEBRIEFS
def check(kit_dir, strict, fmt, course, org, debriefs) -> None:
    """Validate the kit without rendering: errors and lint warnings as path:line: severity: message lines."""
    import json

    from kit.check import check_kit_dir
    from kit.paths import find_kit

    problems = run(check_kit_dir, find_kit(kit_dir), course, org, debriefs)
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


# --- authoring: init, new session, add anecdote; announce; export ------------------------

def _writable_kit(kit_dir: Path | None) -> Path:
    """The kit a command writes into: the one given, else the current folder (never the bundled one)."""
    return (kit_dir or _path(".")).resolve()


@main.command()
@click.argument("directory", type=click.Path(file_okay=False), callback=_as_path)
@click.option("--course", metavar="SLUG", default="my-course", show_default=True,
              help="The course's folder name under content/.")
@click.option("--title", default="My course", show_default=True, help="The course's title.")
@click.option("--language", default="en", show_default=True,
              help="The course's language: the kit prints its own words in it (en, de, es, fr).")
def init(directory, course, title, language) -> None:
    """Start a new kit in DIRECTORY (new or empty): a course, an example session and a README.

    The new kit passes `kit check` and builds as it is; edit it from there.
    """
    from kit.scaffold import init_kit

    for path in run(init_kit, directory, course, title, language):
        click.echo(f"created {_show(path)}")
    click.echo(f"next: cd {directory} && kit check && kit build")


@main.group()
def new() -> None:
    """Create a new piece of content (`kit new session`)."""


@new.command("session")
@click.argument("course")
@click.argument("title")
@KIT_DIR
def new_session(course, title, kit_dir) -> None:
    """Add the next numbered session, TITLE, to COURSE (a folder name under content/).

    The module gets a front matter and a run of show that adds up to the course's
    session length; `kit check` then lists what is left to write. KIT_DIR defaults
    to the current folder.
    """
    from kit.scaffold import new_session as create

    click.echo(_show(run(create, _writable_kit(kit_dir), course, title)))


@main.group()
def add() -> None:
    """Add a block to an existing module (`kit add anecdote`)."""


def _stdin_is_terminal() -> bool:
    import sys

    return sys.stdin.isatty()


STORY_HELP = ("# Write the anecdote's story below, as you would tell it. Lines that start with\n"
              "# '# ' as these do are removed. Save and close the editor to add it.\n")


@add.command("anecdote")
@click.argument("session")
@click.option("--segment", required=True, help="Title of the segment (the ## heading, without its braces).")
@click.option("--title", required=True, help="The anecdote's title.")
@click.option("--point", default="", help="What the story shows, in one line.")
@click.option("--source", default="", help="Where the story comes from.")
@click.option("--retell", default="", help="How to retell it.")
@click.option("--from-file", type=click.File("rb"),
              help="Read the story from this file ('-' for standard input), in UTF-8.")
@COURSE
@KIT_OPTION
def add_anecdote(session, segment, title, point, source, retell, from_file, course, kit_dir) -> None:
    """Add an anecdote at the end of a segment of SESSION (NN, slug or the module's path;
    --course says which course's when the kit has several).

    The story comes from --from-file, else standard input when it is not a terminal,
    else $EDITOR. Every other byte of the module stays as it was. The kit is --kit,
    else the current folder.
    """
    import sys

    from kit.edit import MAX_STORY_BYTES, add_anecdote as add_block, find_module

    # Read as bytes, one byte past the limit: kit.edit decodes and checks them (KitError).
    if from_file is not None:
        story = from_file.read(MAX_STORY_BYTES + 1)
    elif not _stdin_is_terminal():
        story = getattr(sys.stdin, "buffer", sys.stdin).read(MAX_STORY_BYTES + 1)
    else:
        try:
            edited = click.edit(STORY_HELP + "\n", extension=".md")
        except UnicodeDecodeError:
            raise click.ClickException("the story is not valid UTF-8; save it as UTF-8. "
                                       "Nothing was added") from None
        if edited is None:
            raise click.ClickException("the editor was closed without saving; nothing was added")
        story = "\n".join(line for line in edited.splitlines() if line not in STORY_HELP.splitlines())
    ref = run(find_module, _writable_kit(kit_dir), session, course)
    added = run(add_block, ref, segment, title, story, point, source, retell)
    click.echo(escape_controls(f"{_show(added.path)}:{added.line}: added anecdote '{title}' "
                               f"to segment '{added.segment}'"))


@main.command()
@click.argument("session")
@COURSE
@DELIVERY
@KIT_OPTION
def debrief(session, course, delivery, kit_dir) -> None:
    """Write SESSION's debrief file to fill in after the session, or check it.

    The file is debriefs/<cohort>/NN.yaml beside the delivery file, pre-filled with the
    session's segments, planned times, cuts and stories, under the headings of the debrief
    page at the end of the session's guide. When it exists already, it is checked
    instead (`path:line` errors, exit 1). `kit report` and `kit check --debriefs` read
    the folder.
    """
    from kit.debrief import debrief as make
    from kit.paths import find_kit

    if delivery is None:
        raise click.UsageError("--delivery is required: the debrief file goes beside it, in "
                               "debriefs/<cohort>/NN.yaml")
    result = run(make, find_kit(kit_dir), session, delivery, course)
    for problem in result.warnings:
        click.echo(problem.format(), err=True)
    if result.written:
        click.echo(f"wrote {_show(result.path)}: fill it in after the session")
    else:
        click.echo(f"{_show(result.path)}: no errors; {result.timed} of {result.segments} segments timed")


@main.command()
@KIT_DIR
@COURSE
@DEBRIEFS
@click.option("-o", "--out", type=click.Path(dir_okay=False), callback=_as_path, default="report.pdf",
              show_default=True, help="The report's PDF; each session's chart goes beside it as "
                                      "OUT-session-NN.svg.")
def report(kit_dir, course, debriefs, out) -> None:
    """Report on the debriefs of a course's deliveries: planned against actual minutes.

    Reads every debrief file (kit debrief) under --debriefs (default: debriefs/ in the
    current folder) and writes, for each session, a dot plot of each segment's planned
    and actual minutes (median, range, deliveries), the cuts used, the feedback cards'
    ratings and the facilitators' notes; the first page names the segments that
    overran in two or more deliveries, and by how much. An error in a debrief is
    reported at its line (exit 1) and nothing is written.
    """
    from kit.paths import find_kit
    from kit.report import report as make

    result = run(make, find_kit(kit_dir), debriefs if debriefs is not None else _path("debriefs"), out, course)
    click.echo(f"wrote {_show(result.pdf)}: {escape_controls(result.summary)}")
    for chart in result.charts:
        click.echo(f"wrote {_show(chart)}")


@main.command()
@click.argument("session")
@COURSE
@DELIVERY
@KIT_OPTION
def announce(session, course, delivery, kit_dir) -> None:
    """Print SESSION's pre-work announcement in Markdown, for chat or e-mail.

    SESSION is a number, a slug or a module's path (--course says which course's when
    the kit has several). The announcement lists the pre-work with links and minutes,
    the total time and the questions to think about; with --delivery, the session's
    date, time and room. The kit is --kit, else the current folder if it is a kit, else
    the bundled one.
    """
    from kit.announce import announce as make
    from kit.paths import find_kit

    click.echo(run(make, find_kit(kit_dir), session, course, delivery), nl=False)


@main.command()
@KIT_DIR
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True,
              help="Output format.")
@click.option("-o", "--out", type=click.Path(dir_okay=False), callback=_as_path,
              help="Write to this file instead of standard output.")
@COURSE
def export(kit_dir, fmt, out, course) -> None:
    """Write the validated model (courses, sessions, segments, blocks) as JSON."""
    from kit.export import export_json, export_to_file
    from kit.paths import find_kit

    root = find_kit(kit_dir)
    if out is None:
        click.echo(run(export_json, root, course), nl=False)
    else:
        click.echo(f"wrote {_show(run(export_to_file, root, out, course))}", err=True)


@main.command()
@KIT_DIR
@COURSE
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 to serve on; 0 picks a free one.")
@ORG
@DELIVERY
def preview(kit_dir, course, port, org, delivery) -> None:
    """Serve the guide and worksheets as HTML on localhost; pages reload when a file changes.

    Shows the same HTML the PDFs are made from, and on the index the warnings of
    `kit check`. While the content has errors, every page lists them as
    path:line: message. Stop with Ctrl-C.
    """
    from kit.paths import find_kit
    from kit.preview import serve

    def ready(url: str) -> None:
        click.echo(f"Previewing {find_kit(kit_dir)} at {url} (Ctrl-C to stop)")

    try:
        run(serve, find_kit(kit_dir), course, org, delivery, port, ready)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


# --- import: a kit from another course format ----------------------------------------

@main.group("import")
def import_group() -> None:
    """Make a kit from a course written in another format (`kit import carpentries`)."""


@import_group.command("carpentries")
@click.argument("lesson_dir", type=click.Path(file_okay=False), callback=_as_path)
@click.option("-o", "--out", "kit_dir", type=click.Path(file_okay=False), callback=_as_path,
              help="The kit folder to write: new, empty or an earlier import (default: LESSON_DIR's name "
                   "with '-kit', in the current folder).")
@click.option("--session-minutes", type=click.IntRange(10, 600), default=90, show_default=True,
              help="The longest session: episodes are packed into sessions of at most this length.")
def import_carpentries(lesson_dir, kit_dir, session_minutes) -> None:
    """Write a kit from the Carpentries lesson in LESSON_DIR (Workbench or the older Jekyll format).

    Episodes become sessions, challenges worksheet prompts (their solutions go to the
    guide only), instructor notes facilitator notes; figures are copied. Problems are
    listed as path:line: severity: message, with paths in the lesson; on an error
    nothing is written (exit 1). Nothing is fetched and no lesson code is run.
    """
    from kit.carpentries import import_lesson

    try:
        result = import_lesson(lesson_dir, kit_dir, session_minutes)
    except KitError as error:
        for problem in error.problems:
            click.echo(problem.format(with_col=True))
        errors = sum(p.severity == "error" for p in error.problems)
        click.echo(f"{errors} errors, {len(error.problems) - errors} warnings; nothing was written", err=True)
        raise SystemExit(1) from None
    for problem in result.warnings:
        click.echo(problem.format(with_col=True))
    counts = result.counts
    click.echo(f"wrote {_show(result.kit_dir)}: {counts['sessions']} sessions from {counts['episodes']} episodes, "
               f"{counts['prompts']} prompts with {counts['answers']} answers, {counts['notes']} instructor notes, "
               f"{counts['figures']} figures; {len(result.warnings)} warnings")
    click.echo(f"next: kit check {_show(result.kit_dir)} && kit build {_show(result.kit_dir)}", err=True)


@main.command("run")
@click.argument("session")
@KIT_DIR
@COURSE
@DELIVERY
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="Port on 127.0.0.1 to serve on; 0 picks a free one.")
@click.option("--no-debrief", is_flag=True, help="Write no debrief file (a rehearsal).")
def run_session(session, kit_dir, course, delivery, port, no_debrief) -> None:
    """Run SESSION in the room: a presenter page for your laptop, a projector page for the screen.

    Serves on 127.0.0.1 only: /presenter (the segment, its say line and talking points, the
    clock against the plan, ahead/behind, the cuts still available when behind, the next
    segment, the pair-flip timer; keys: arrows, S, 1-9, T, E E) and /projector (participant
    material only). When the session ends or on Ctrl-C, the actual start of each segment
    and the cuts used go into the session's debrief file: beside the delivery file as
    `kit debrief` writes it, else debriefs/undated/DATE-NN.yaml in the current folder.
    """
    from kit.paths import find_kit
    from kit.run import serve

    def ready(served) -> None:
        click.echo(f"Running session {served.plan.session.number}: {served.plan.session.title}")
        click.echo(f"  presenter (your laptop): {served.presenter}")
        click.echo(f"  projector (the room):    {served.projector}")
        if served.debrief is not None:
            click.echo(f"  debrief file on the way out: {_show(served.debrief)}")
        click.echo("Ctrl-C to stop")

    def log(line: str) -> None:
        if not line.startswith(("GET ", "refused GET")):
            click.echo(escape_controls(line), err=True)

    import signal

    def terminate(signum, frame):
        raise KeyboardInterrupt  # SIGTERM stops the run as Ctrl-C does: the debrief is written

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        run(serve, find_kit(kit_dir), session, course, delivery, port, ready, log, not no_debrief)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
