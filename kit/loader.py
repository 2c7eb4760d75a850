"""Load a kit folder into the model, collecting every problem on the way.

Phase one of a build: nothing is rendered or written here. `load_kit` returns
the model and all problems (errors and warnings); callers decide what stops.
"""
from __future__ import annotations

import bisect
import dataclasses
import hashlib
import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from kit import model as m
from kit import i18n, orgs
from kit.errors import KitError, Problems
from kit.imagesize import image_file_problem
from kit.links import link_problem, url_scheme
from kit.markdown import (MAX_BRACKET_WORK, MAX_NESTING, bracket_work, dropped_html, image_sources, link_targets,
                          links_lost, nesting)
from kit.markdown import MAX_ELEMENTS, element_count, layout_problem
from kit.parse import MAX_MODULE_BYTES, TextProblem, decode, parse_module
from kit.safefs import Unsafe, inside, read_bounded
from kit.schema import COURSE, check_mapping
from kit.yamlload import YamlProblem, load_yaml

MODULE_RE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
COURSE_FILES = {"course.yaml", "introduction.md"}
# The kit's folders that a build reads resources (images, stylesheets) from.
RESOURCE_FOLDERS = ("content", "templates")


@dataclass(frozen=True)
class Loaded:
    kit: m.Kit
    problems: Problems
    root: Path


def read_text(path: Path, root: Path, problems: Problems) -> str | None:
    if not inside(path, root):
        problems.error(path, 1, "the file links to a place outside the kit; it is not read")
        return None
    try:
        if not path.is_file():  # a device, a pipe or a folder would block or fail the read
            problems.error(path, 1, "not a regular file; it is not read")
            return None
        size = path.stat().st_size
        if size > MAX_MODULE_BYTES:
            raise TextProblem(1, f"file is larger than 1 MiB ({size:,} bytes)")
        return decode(read_bounded(path, MAX_MODULE_BYTES))  # checked again on what is opened
    except Unsafe:
        problems.error(path, 1, "the file changed while it was read; it is not read")
    except TextProblem as problem:
        problems.error(path, problem.line, problem.message)
    except OSError as exc:
        problems.error(path, 1, f"cannot read the file: {exc.strerror or exc}")
    return None


def load_yaml_file(path: Path, root: Path, problems: Problems):
    text = read_text(path, root, problems)
    if text is None:
        return None, ""
    try:
        return load_yaml(text), text
    except YamlProblem as problem:
        problems.error(path, problem.line, problem.message)
        return None, text


# --- what a module's text names: images, and raw HTML the sanitiser drops ----------

def resource_roots(root: Path) -> list[Path]:
    """The folders of the kit a build may read images and stylesheets from."""
    return [root / name for name in RESOURCE_FOLDERS]


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 100 else text[:97] + "..."


def image_problem(src: str, folder: Path, root: Path) -> str | None:
    """Why the image `src`, named in a module of `folder`, cannot be used; None when it can.

    Resolves like the PDF engine does (relative to the course folder, then '..'
    and symbolic links), so what passes here is what the engine is allowed to read.
    """
    name = _short(src)
    scheme = url_scheme(src)
    if scheme in ("http", "https") or src.strip().startswith("//"):
        return (f"image '{name}' is on the web, and nothing is fetched while building: "
                "save it in the course folder and name it by a relative path")
    if scheme == "data":
        return (f"image '{name}' is a data: URL, which the sanitiser removes: "
                "save the image in the course folder and name it by a relative path")
    if scheme:
        return (f"image '{name}' is a {scheme}: URL: name the image by a path relative "
                "to the module's folder")
    if src.strip().startswith(("/", "\\")):
        return f"image '{name}' is an absolute path: name it by a path relative to the module's folder"
    raw = unquote(urlsplit(urljoin(folder.resolve().as_uri() + "/", src.strip())).path)
    if "\x00" in raw:
        return f"image '{name}' is not a usable path"
    try:
        target = Path(raw).resolve()
    except (OSError, RuntimeError, ValueError):
        return f"image '{name}' is not a usable path"
    if not inside(target, root):
        return (f"image '{name}' lies outside the kit (after following '..' and links); "
                "keep images in the course folder")
    if not any(inside(target, r) for r in resource_roots(root)):
        return (f"image '{name}' lies outside the kit's {' and '.join(f'{f}/' for f in RESOURCE_FOLDERS)} "
                "folders, the only ones read while building")
    if not target.is_file():
        try:
            shown = target.relative_to(root.resolve())
        except ValueError:
            shown = target
        return f"image '{name}' not found: there is no file {shown}"
    # Its size, from the header, before the PDF engine decodes it whole.
    return image_file_problem(target, name, tuple(r.resolve() for r in resource_roots(root)))


def _texts(obj, line: int):
    """Every string of a model object, each with the line its element starts on."""
    if isinstance(obj, str):
        yield obj, line
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _texts(item, line)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        src = getattr(obj, "src", None)
        line = src.line if isinstance(src, m.Source) else line
        for f in dataclasses.fields(obj):
            if f.name != "src":
                yield from _texts(getattr(obj, f.name), line)


def line_of(lines: list[str], needles: list[str], start: int) -> int:
    """The first line at or after `start` that holds one of the needles; else `start`."""
    for needle in needles:
        needle = needle.lower()
        if needle:
            for index in range(max(start, 1) - 1, len(lines)):
                if needle in lines[index].lower():
                    return index + 1
    return start


class LinkPlaces:
    """Finds the line of each refused link in a file's source.

    The HTML parser hands a link's address over decoded, while the source may spell it
    with entities, percent escapes or a tab: it is looked for in the source as written
    and with its entities decoded and tabs expanded. Links to the same address get
    successive places. Searching is done on the whole text at once (str.find), within
    the lines the link's text may cover, so that thousands of links stay quick.
    """
    SLACK = 1000  # lines past a text's own that its fields may spread over
    MAX_MISSES = 100  # links not found anywhere: after these, the text's first line is used

    def __init__(self, lines: list[str]):
        self.lines = lines
        self._views: list[tuple[str, list[int]]] | None = None
        self.cursor: dict = {}  # (view, needle, first line) -> where to look from
        self.used: dict = {}    # (line, form) -> links already placed there
        self.misses = 0

    def _view_list(self) -> list[tuple[str, list[int]]]:
        if self._views is None:
            raw = [line.lower() for line in self.lines]
            decoded = [html.unescape(line).replace("\n", " ").lower() for line in self.lines]
            expanded = [line.expandtabs(4) for line in decoded]  # Markdown turns tabs into spaces
            self._views = []
            for view in (raw, decoded, expanded):
                starts, offset = [], 0
                for line in view:
                    starts.append(offset)
                    offset += len(line) + 1
                starts.append(offset)
                self._views.append(("\n".join(view), starts))
        return self._views

    def line(self, url: str | None, start: int, text_lines: int) -> int:
        url = (url or "").strip()
        if url:
            forms = [f.lower() for f in dict.fromkeys([url, unquote(url), url.split("\n")[0].strip()]) if f]
            needles = [(f"{edge}{form}", form) for form in forms for edge in ("(", "<", '"', "'", "=", ": ")]
            needles += [(form, form) for form in forms]
        else:
            needles = [(needle, needle) for needle in ("]()", "](<>)", 'href=""', "href=''", "href>", "href ")]
        first = min(max(start, 1) - 1, len(self.lines))
        last = min(first + text_lines + self.SLACK, len(self.lines))
        if self.misses >= self.MAX_MISSES:
            return start
        views = self._view_list()
        for needle, form in needles:
            found = [line for index in range(len(views))
                     if (line := self._free(index, needle, form, first, last)) is not None]
            if found:  # the first free place in any spelling
                line = min(found)
                self.used[(line, form)] = self.used.get((line, form), 0) + 1
                return line + 1
        self.misses += 1
        return start

    def _free(self, index: int, needle: str, form: str, first: int, last: int) -> int | None:
        """The first line (0-based) from `first` to `last` where view `index` has `needle`
        and the line has a place for `form` not yet given to a link."""
        view, starts = self._view_list()[index]
        key = (index, needle, first)
        at = max(starts[first], self.cursor.get(key, 0))
        while (at := view.find(needle, at, starts[last])) >= 0:
            line = bisect.bisect_right(starts, at) - 1
            self.cursor[key] = starts[line]  # no earlier line has a free place for this needle
            if self.used.get((line, form), 0) < self._count(line, form):
                return line
            at = starts[line + 1]  # every place of this line is taken: the next line
        return None

    def _count(self, line: int, form: str) -> int:
        """How many links to `form` line `line` (0-based) may hold."""
        return max(view[starts[line]:starts[line + 1]].count(form) for view, starts in self._view_list())


def check_links(text: str, start: int, places: LinkPlaces, path: Path, problems: Problems) -> None:
    """An error for each link of `text` that the link rule (kit.links) refuses, at its line,
    and for links the sanitiser would strip for a reason the rule did not see."""
    refused = False
    for url in link_targets(text):
        message = link_problem(url)
        if message:
            refused = True
            problems.error(path, places.line(url, start, text.count("\n") + 1), message)
    if not refused and links_lost(text):
        problems.error(path, start, "a link here loses its address when the HTML is cleaned (its raw HTML "
                                    "is read differently); write it as [text](https://...)")


def check_texts(texts, source: str, path: Path, folder: Path, root: Path, problems: Problems) -> None:
    """Errors for images that cannot be used and for links that may not be printed (kit.links);
    warnings for raw HTML the sanitiser drops."""
    lines = source.split("\n")
    seen = set()
    places = LinkPlaces(lines)
    total_work = 0
    elements = 0  # of the HTML of every text so far
    for text, start in texts:
        depth, offset = nesting(text)
        if depth > MAX_NESTING:
            line = line_of(lines, [text.split("\n")[offset].strip()[:80]], start)
            problems.error(path, line, f"lists or quotes nested {depth} levels deep: Markdown reads at "
                                       f"most {MAX_NESTING}")
            continue
        work = bracket_work(text)
        total_work += work
        if work > MAX_BRACKET_WORK or total_work > 4 * MAX_BRACKET_WORK:
            problems.error(path, start, "too many brackets that close far away or never ('[', '](' or "
                                        "'<'): Markdown would take minutes to read this text")
            return
        layout = layout_problem(text)  # what the PDF engine could not lay out, or only very slowly
        if layout:
            problems.error(path, line_of(lines, [text.split("\n")[layout[0]].strip()[:80]], start), layout[1])
            continue
        elements += element_count(text)
        if elements > MAX_ELEMENTS:
            problems.error(path, start, f"the file's text makes more than {MAX_ELEMENTS:,} HTML elements "
                                        "(paragraphs, list items, table cells...), which would take minutes "
                                        "to print: split it into several sessions")
            return
        try:
            images, dropped_parts = image_sources(text), dropped_html(text)
            check_links(text, start, places, path, problems)
        except RecursionError:  # a shape of nesting that nesting() does not measure
            problems.error(path, start, "the Markdown is nested too deeply to be read")
            continue
        for src in images:
            message = image_problem(src, folder, root)
            if message:
                forms = dict.fromkeys([src, src.replace("&", "&amp;"), unquote(src)])
                line = line_of(lines, [f"{edge}{form}" for form in forms for edge in ("(", "<", '"', "'", "=", ": ")]
                               + list(forms), start)
                if (line, message) not in seen:
                    seen.add((line, message))
                    problems.error(path, line, message)
        for dropped in dropped_parts:
            line = line_of(lines, [dropped.needle], start)
            if (line, dropped.message) not in seen:
                seen.add((line, dropped.message))
                problems.warning(path, line, dropped.message)


def organisation_from(clean: dict, raw, path: Path, problems: Problems) -> m.Organisation:
    """Build the organisation from validated values; product ids must be unique."""
    raw_products = raw.get("products") if isinstance(raw, dict) else None
    lines = list(getattr(raw_products, "lines", [])) + [getattr(raw, "line", 1)] * len(clean["products"])
    seen = set()
    for product, line in zip(clean["products"], lines):
        if product["id"] in seen:
            problems.error(path, line, f"product id '{product['id']}' is declared twice")
        seen.add(product["id"])
    return m.Organisation(clean["name"], clean["about"],
                          tuple(m.Product(p["id"], p["name"], p["about"]) for p in clean["products"]),
                          clean.get("fictional", False))


def load_course(folder: Path, root: Path, problems: Problems,
                org: m.Organisation | None = None) -> m.Course | None:
    course_file = folder / "course.yaml"
    data, text = load_yaml_file(course_file, root, problems)
    if data is None:
        if text is not None and not problems.errors:
            problems.error(course_file, 1, "course.yaml is empty")
        return None
    if not isinstance(data, dict):
        problems.error(course_file, 1, "course.yaml must be 'key: value' lines")
        return None
    report = lambda line, msg: problems.error(course_file, line, msg)  # noqa: E731
    meta = check_mapping(data, COURSE, 1, "", report)
    if not i18n.supported(meta["language"]):
        report(getattr(data, "lines", {}).get("language", 1), i18n.unsupported_message(meta["language"]))
    own_org = organisation_from(meta["organisation"], data.get("organisation"), course_file, problems)
    organisation = org or own_org
    digest = hashlib.sha256()
    digest.update(text.encode())
    introduction = ""
    intro_file = folder / "introduction.md"
    if intro_file.exists():
        introduction = read_text(intro_file, root, problems) or ""
        digest.update(introduction.encode())
        check_texts([(introduction, 1)], introduction, intro_file, folder, root, problems)
    # Examples may name the course's own products and, with --org, the organisation's.
    products = {p.id: p.name for p in own_org.products} | {p.id: p.name for p in organisation.products}
    sessions = []
    numbers: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_dir() or path.name in COURSE_FILES or path.name.startswith("."):
            continue
        if path.suffix != ".md":
            continue
        match = MODULE_RE.match(path.name)
        if not match:
            problems.error(path, 1, "a module's file name must be NN-slug.md (two digits, a dash, "
                                    "lower-case letters, digits and dashes), e.g. 03-reducing-loss.md")
            continue
        number, slug = int(match.group(1)), match.group(2)
        if number in numbers:
            problems.error(path, 1, f"session number {number:02d} is taken by {numbers[number].name}")
            continue
        numbers[number] = path
        text = read_text(path, root, problems)
        if text is None:
            continue
        digest.update(path.name.encode() + b"\0" + text.encode())
        session = parse_module(text, problems.rel(path), number, slug, products, meta["session_minutes"],
                               lambda line, msg, p=path: problems.error(p, line, msg),
                               lambda line, msg, p=path: problems.warning(p, line, msg))
        if session is not None:
            check_texts(_texts(session, 1), text, path, folder, root, problems)
            sessions.append(session)
    if not numbers:
        problems.error(course_file, 1, "the course has no modules: add files such as 01-kick-off.md")
    return m.Course(folder.name, meta["title"], meta["subtitle"], meta["audience"], meta["language"],
                    meta["session_minutes"], meta["follows"], own_org, introduction,
                    tuple(sessions), m.Source(problems.rel(course_file), 1), digest.hexdigest()[:10],
                    tuple(m.Move(key, when, meta["moves"][key]) for key, when in m.MOVES if meta["moves"][key]),
                    meta["recovery_minutes"])


def load_kit(root: Path, course: str | None = None, org_file: Path | None = None) -> Loaded:
    """Load every course of the kit at `root` (or just `course`)."""
    root = Path(root)
    problems = Problems(root)
    content = root / "content"
    if not content.is_dir():
        raise KitError(f"{root}: not a kit: there is no content/ folder (create one with 'kit init')")
    if not outside_links(root, problems):
        return Loaded(m.Kit(()), problems, root)
    profile = None
    if org_file is not None:
        profile = load_org_profile(Path(org_file), problems)
    folders = sorted(p for p in content.iterdir() if p.is_dir() and not p.name.startswith("."))
    slugs = [f.name for f in folders]
    if course is not None:
        wanted = [f for f in folders if f.name == course]
        if not wanted:
            raise KitError(f"no course '{course}' in {content}; courses: "
                           f"{', '.join(f.name for f in folders) or 'none'}")
        folders = wanted
    courses = []
    for folder in folders:
        if not inside(folder, root):
            problems.error(folder, 1, "the course folder links to a place outside the kit; it is not read")
            continue
        if not (folder / "course.yaml").exists():
            problems.error(folder / "course.yaml", 1, "every course folder needs a course.yaml")
            continue
        loaded = load_course(folder, root, problems, profile.organisation if profile else None)
        if loaded is not None:
            courses.append(loaded)
    if not folders:
        problems.error(content, 1, "the kit has no courses: add content/<course-slug>/course.yaml")
    if profile is not None:
        courses = apply_profile(profile, courses, slugs, root, problems)
    return Loaded(m.Kit(tuple(courses)), problems, root)


def apply_profile(profile: orgs.Profile, courses: list[m.Course], slugs: list[str], root: Path,
                  problems: Problems) -> list[m.Course]:
    """The courses as run for the profile's organisation (kit.orgs.apply_org).

    Errors for the profile's examples that name no place in the kit; a warning for
    every session that will print a 'bring your own example' box.
    """
    for line, message in orgs.placement_problems(profile, courses, slugs):
        problems.error(profile.path, line, message)
    applied = []
    for course in courses:
        check_texts(orgs.example_texts(profile, course), profile.text, Path(profile.path),
                    root / "content" / course.slug, root, problems)
        course = orgs.apply_org(course, profile)
        for session in orgs.gaps(course):
            problems.warning(root / session.src.path, 1, orgs.gap_message(profile))
        applied.append(course)
    return applied


def outside_links(root: Path, problems: Problems) -> bool:
    """False when content/ or templates/ lead out of the kit: nothing is then read.

    A file or folder inside templates/ that links out of templates/ is an error too,
    since templates and stylesheets are read only from there (kit.render refuses the same).
    """
    ok = True
    for name in RESOURCE_FOLDERS:
        folder = root / name
        if folder.is_symlink() or folder.exists():
            if not inside(folder, root):
                problems.error(folder, 1, f"{name}/ links to a place outside the kit; it is not read")
                ok = False
    templates = root / "templates"
    if ok and templates.is_dir():
        for base, dirs, files in os.walk(templates):
            for entry in dirs + files:
                if not inside(Path(base) / entry, root):
                    problems.error(Path(base) / entry, 1, "the file links to a place outside the kit; "
                                                          "it is not read")
                    ok = False
                elif not inside(Path(base) / entry, templates):
                    problems.error(Path(base) / entry, 1, "the file links out of templates/; templates "
                                                          "and stylesheets are read only from templates/")
    return ok


def load_org_profile(path: Path, problems: Problems) -> orgs.Profile | None:
    """An organisation profile: a YAML file with name, about, products and its own examples."""
    if not path.is_file():
        problems.error(path, 1, "organisation profile not found")
        return None
    data, text = load_yaml_file(path, path.parent, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.error(path, 1, "an organisation profile must be 'key: value' lines")
        return None
    report = lambda line, msg: problems.error(path, line, msg)  # noqa: E731
    clean = check_mapping(data, orgs.PROFILE, 1, "", report)
    if clean["language"] and not i18n.supported(clean["language"]):
        report(getattr(data, "lines", {}).get("language", 1), i18n.unsupported_message(clean["language"]))
    return orgs.profile_from(clean, data, organisation_from(clean, data, path, problems),
                             problems.rel(path), text, report)
