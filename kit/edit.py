"""`kit add anecdote`: insert a block into a module without touching anything else.

The segment is found with the module parser (so `##` lines inside code fences
are not mistaken for headings). The new block is inserted as one run of bytes
at the end of the segment, before the blank lines that precede the next `##`
heading; every other byte of the file, its line endings and a byte-order mark
included, stays as it was. The result is parsed again and must hold the new
anecdote, with the same fields, in that segment, and no errors before it is
written, atomically (a temporary file in the same folder, then os.replace).
"""
from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from kit import model as m
from kit.errors import KitError, Problem, Problems
from kit.loader import MODULE_RE, load_kit
from kit.safefs import Unsafe, atomic_write, read_bounded
from kit.parse import (ATTRS_RE, MAX_MODULE_BYTES, Node, TextProblem, build_tree, decode,
                       parse_module, split_front_matter)
from kit.yamlload import YamlProblem, load_yaml

BOM = b"\xef\xbb\xbf"
MAX_STORY_BYTES = MAX_MODULE_BYTES  # a module holds at most this much, and so can a story
LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


# --- which module -------------------------------------------------------------------

@dataclass(frozen=True)
class ModuleRef:
    root: Path      # the kit
    course: str     # the course's folder name
    path: Path      # the module file
    number: int
    slug: str


def find_module(root: Path, session: str, course: str | None = None) -> ModuleRef:
    """A module named by a path to its file, or by NN, slug or NN-slug within a course.

    Without `course`, the kit must have exactly one course.
    """
    candidate = Path(session)
    if candidate.suffix == ".md" and (candidate.is_file() or candidate.is_symlink()):
        # The kit is the folder the path names, not where its links lead: add_anecdote then
        # refuses a module that is a link or lies outside that kit's content/ folder.
        path = Path(os.path.abspath(candidate))
        match = MODULE_RE.match(path.name)
        if not match or path.parent.parent.name != "content":
            raise KitError(f"{session}: not a session module: it must be content/<course>/NN-slug.md "
                           "in a kit")
        return ModuleRef(path.parent.parent.parent, path.parent.name, path,
                         int(match.group(1)), match.group(2))
    root = Path(root)
    content = root / "content"
    if not content.is_dir():
        raise KitError(f"{root}: not a kit: there is no content/ folder (create one with 'kit init')")
    courses = sorted(p.name for p in content.iterdir() if (p / "course.yaml").is_file())
    if course is None:
        if len(courses) != 1:
            raise KitError(f"the kit has {len(courses)} courses; say which with --course: "
                           f"{', '.join(courses) or 'none'}")
        course = courses[0]
    elif course not in courses:
        raise KitError(f"no course '{course}' in {content}; courses: {', '.join(courses) or 'none'}")
    folder = content / course
    modules = []
    for path in sorted(folder.iterdir()):
        match = MODULE_RE.match(path.name)
        if match and path.is_file():
            modules.append((path, int(match.group(1)), match.group(2)))
    for path, number, slug in modules:
        if m.names_session(session, number, slug, path.stem):
            return ModuleRef(root, course, path, number, slug)
    names = ", ".join(p.stem for p, _, _ in modules) or "none"
    raise KitError(f"no session '{session}' in course '{course}'; sessions: {names}")


@dataclass(frozen=True)
class OneSession:
    """A kit loaded for one of its sessions (kit announce, debrief and run)."""
    ref: ModuleRef
    kit: m.Kit
    course: m.Course
    session: m.Session
    problems: Problems


def load_session(root: Path, session: str, course: str | None = None,
                 also: tuple[Path, ...] = ()) -> OneSession:
    """Load the kit for the session named by `session` (as find_module names it). Errors in
    other sessions do not stop it; errors in this module, its course.yaml, or the files in
    `also` (a delivery file read into the same problems) do: KitError."""
    ref = find_module(root, session, course)
    loaded = load_kit(ref.root, ref.course)
    return one_session(ref, loaded.kit, loaded.problems, also)


def one_session(ref: ModuleRef, kit: m.Kit, problems: Problems, also: tuple[Path, ...] = ()) -> OneSession:
    """`load_session` once the kit is loaded (call it after reading the files of `also`)."""
    mine = {problems.rel(ref.path), problems.rel(ref.root / "content" / ref.course / "course.yaml")}
    mine |= {problems.rel(path) for path in also}
    blocking = [p for p in problems.errors if p.path in mine]
    found = kit.course(ref.course)
    if blocking or found is None:
        raise KitError(blocking or problems.errors)
    chosen = next((s for s in found.sessions if s.number == ref.number), None)
    if chosen is None:  # pragma: no cover - a module without errors always parses
        raise KitError(f"cannot read {problems.rel(ref.path)}")
    return OneSession(ref, kit, found, chosen, problems)


# --- the text, line by line ------------------------------------------------------------

def split_lines(text: str) -> list[str]:
    """Lines with their own endings ('\\r\\n', '\\r' or '\\n'); ''.join() gives `text` back.

    Line i here is line i + 1 of `kit.parse.decode`'s numbering."""
    return LINE_RE.findall(text)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")):]


def _yaml_value(key: str, value: str) -> str:
    """`key: value`, quoted only when YAML would not read the plain text back unchanged."""
    try:
        plain = load_yaml(f"{key}: {value}")
    except YamlProblem:
        plain = None
    if isinstance(plain, dict) and plain.get(key) == value:
        return f"{key}: {value}"
    return f"{key}: {json.dumps(value, ensure_ascii=False)}"


def _one_line(what: str, value: str) -> str:
    value = value.strip()
    if "\n" in value or "\r" in value:
        raise KitError(f"the anecdote's {what} must be one line")
    if "\x00" in value:
        raise KitError(f"the anecdote's {what} contains a NUL character")
    if not _encodable(value):
        raise KitError(f"the anecdote's {what} is not valid UTF-8")
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")  # lone surrogates: bytes the terminal or a file could not decode
        return True
    except UnicodeEncodeError:
        return False


def story_text(story: str | bytes) -> str:
    """The story as text: UTF-8 (a byte-order mark allowed), at most 1 MiB, no NUL. Raises KitError.

    Bytes (a file or standard input read as they are) are decoded here; text that came
    decoded with undecodable bytes kept as surrogates is refused the same way."""
    if isinstance(story, (bytes, bytearray)):
        data = bytes(story)
        if len(data) > MAX_STORY_BYTES:
            raise KitError(f"the story is larger than 1 MiB ({len(data):,} bytes or more); "
                           "a module holds at most 1 MiB")
        data = data[len(BOM):] if data.startswith(BOM) else data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise KitError(f"the story is not valid UTF-8 (byte 0x{data[exc.start]:02x} on its line "
                           f"{line}); save it as UTF-8") from None
    else:
        text = story
        if not _encodable(text):
            raise KitError("the story is not valid UTF-8; save it as UTF-8")
        size = len(text.encode("utf-8"))
        if size > MAX_STORY_BYTES:
            raise KitError(f"the story is larger than 1 MiB ({size:,} bytes); a module holds at most 1 MiB")
    if "\x00" in text:
        line = text[: text.index("\x00")].replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
        raise KitError(f"the story contains a NUL character (on its line {line})")
    return text


def writable_module(ref: ModuleRef) -> None:
    """Raise KitError unless `ref.path` is a module file that add_anecdote may replace: a
    regular file, not a symbolic link, inside the kit's content/ folder (after following the
    links of its folders), and writable by the user."""
    path = ref.path
    shown = str(path.relative_to(ref.root)) if path.is_relative_to(ref.root) else str(path)
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise KitError(f"{shown}: cannot read the module: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode):
        raise KitError(f"{shown}: the module is a symbolic link; kit writes only to module files "
                       "inside the kit, never through a link. Nothing was changed")
    try:
        inside = path.resolve().is_relative_to((ref.root / "content").resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise KitError(f"{shown}: the module lies outside the kit's content/ folder (after following "
                       "links); nothing was changed")
    if not stat.S_ISREG(info.st_mode):
        raise KitError(f"{shown}: not a regular file; nothing was changed")
    if not os.access(path, os.W_OK) or not info.st_mode & 0o222:
        raise KitError(f"{shown}: the module is read-only; make it writable (chmod u+w) to add to it. "
                       "Nothing was changed")


def anecdote_lines(title: str, story: str, point: str = "", source: str = "",
                   retell: str = "") -> list[str]:
    """The lines of a `::: anecdote` block, without line endings."""
    lines = [f"::: anecdote {title}"]
    for key, value in (("point", point), ("source", source), ("retell", retell)):
        if value:
            lines.append(_yaml_value(key, value))
    story_lines = [line.rstrip() for line in story.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while story_lines and not story_lines[0]:
        story_lines.pop(0)
    while story_lines and not story_lines[-1]:
        story_lines.pop()
    # The parser itself says whether the story holds structure (outside code fences).
    stray: list[int] = []
    overview, segments = build_tree(story_lines, 1, lambda line, _message: stray.append(line))
    if segments:
        raise KitError(f"the story cannot contain a '##' heading, which would start a new "
                       f"segment: {story_lines[segments[0].line - 1].strip()}")
    stray += [child.line for child in overview.children if isinstance(child, Node)]
    if stray:
        raise KitError(f"the story cannot contain a ':::' fence line: {story_lines[min(stray) - 1].strip()}")
    lines.append("")  # a blank line: the story is never read as fields
    lines += story_lines
    lines.append(":::")
    return lines


@dataclass(frozen=True)
class Added:
    path: Path
    line: int      # the line of the new block's opening fence
    segment: str   # the segment's title


def segment_title(heading: str) -> str:
    match = ATTRS_RE.search(heading)
    return (heading[: match.start()] if match else heading).strip()


@dataclass(frozen=True)
class _Context:
    products: dict
    minutes: int


def _course_context(ref: ModuleRef) -> _Context:
    """What parsing a module of this course needs: its products and default session length."""
    loaded = load_kit(ref.root, ref.course)
    course = loaded.kit.course(ref.course)
    if course is None:
        loaded.problems.raise_if_errors()
        raise KitError(f"cannot read the course '{ref.course}'")  # pragma: no cover
    return _Context({p.id: p.name for p in course.organisation.products}, course.session_minutes)


def _module_problems(text: str, ref: ModuleRef, rel: str, context: _Context):
    """Parse the module as the loader does; return its errors and the session."""
    problems = Problems()
    session = parse_module(text, rel, ref.number, ref.slug, context.products, context.minutes,
                           lambda line, msg: problems.error(rel, line, msg), lambda *_: None)
    return problems.errors, session


def add_anecdote(ref: ModuleRef, segment: str, title: str, story: str, point: str = "",
                 source: str = "", retell: str = "") -> Added:
    """Insert an anecdote at the end of `segment` of the module `ref`. Raises KitError."""
    path = ref.path
    rel = str(path.relative_to(ref.root)) if path.is_relative_to(ref.root) else str(path)
    story = story_text(story)
    title = _one_line("title", title)
    if not title:
        raise KitError("the anecdote needs a title (--title)")
    point, source, retell = (_one_line(k, v) for k, v in
                             (("point", point), ("source", source), ("retell", retell)))
    if not story.strip():
        raise KitError("the anecdote has no story: give it with --from-file, on standard input "
                       "or in your editor")
    block = anecdote_lines(title, story, point, source, retell)

    writable_module(ref)
    try:
        data = read_bounded(path, MAX_MODULE_BYTES)
    except Unsafe:
        raise KitError(f"{rel}: the module is over 1 MiB, or not a regular file; it was not changed") from None
    except OSError as exc:
        raise KitError(f"{rel}: cannot read the module: {exc.strerror or exc}") from None
    try:
        decoded = decode(data)
    except TextProblem as problem:
        raise KitError([Problem(rel, problem.line, 0, "error", problem.message)]) from None
    context = _course_context(ref)
    errors, _ = _module_problems(decoded, ref, rel, context)
    if errors:
        raise KitError(errors + [Problem(rel, 1, 0, "error", "fix these errors first; "
                                         "the module was not changed")])
    bom = data.startswith(BOM)
    raw = data[len(BOM):].decode("utf-8") if bom else data.decode("utf-8")
    lines = split_lines(raw)

    _, _, body, body_line = split_front_matter(decoded)
    _, raw_segments = build_tree(body, body_line, lambda *_: None)
    titles = [segment_title(s.heading) for s in raw_segments]
    matches = m.matching_titles(titles, segment)
    if len(matches) != 1:
        listed = "; ".join(f"'{t}'" for t in titles) or "none"
        what = "more than one segment is called" if matches else "no segment called"
        raise KitError([Problem(rel, 1, 0, "error", f"{what} '{segment}'; the segments are: {listed}")])
    index = matches[0]
    first = raw_segments[index].line  # 1-based, the heading
    end = raw_segments[index + 1].line - 1 if index + 1 < len(raw_segments) else len(lines)
    last = end
    while last > first and not lines[last - 1].strip():
        last -= 1
    # Insert after line `last` (1-based): a blank line, then the block.
    after = lines[last - 1]
    newline = _ending(after) or next((_ending(line) for line in lines if _ending(line)), "\n")
    prefix = "" if _ending(after) else newline
    inserted = prefix + newline + newline.join(block) + newline
    offset = sum(len(line) for line in lines[:last])
    if last == len(lines) and not _ending(after):
        inserted = inserted[: -len(newline)]  # the file ended without a line ending; so does it now
    new_raw = raw[:offset] + inserted + raw[offset:]
    new_data = (BOM if bom else b"") + new_raw.encode("utf-8")

    # Parse the result: it must be as valid as before, with the anecdote where it belongs.
    fence_line = last + 2
    try:
        new_text = decode(new_data)
    except TextProblem as problem:  # the module would grow past 1 MiB
        raise KitError([Problem(rel, problem.line, 0, "error", f"with the anecdote, the {problem.message}; "
                                "the module was not changed")]) from None
    errors, session = _module_problems(new_text, ref, rel, context)
    found = None
    if session is not None and index < len(session.segments):
        found = next((b for b in session.segments[index].blocks
                      if b.kind == "anecdote" and b.src.line == fence_line), None)
    expected = (title, "\n".join(block[block.index("") + 1:-1]), point, source, retell)
    if errors or found is None or (found.title, found.story, found.point, found.source,
                                   found.retell) != expected:
        raise KitError(errors + [Problem(rel, fence_line, 0, "error",
                                         "the anecdote could not be added cleanly; "
                                         "the module was not changed")])
    writable_module(ref)  # again: the checks above read the whole kit, which takes a moment
    try:
        write_atomic(path, new_data)
    except OSError as exc:
        raise KitError(f"{rel}: cannot write the module: {exc.strerror or exc}; it was not changed") from None
    return Added(path, fence_line, titles[index])


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` whole or not at all, keeping its permissions (kit.safefs)."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    atomic_write(path, data, mode)
