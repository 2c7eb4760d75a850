"""Load a kit folder into the model, collecting every problem on the way.

Phase one of a build: nothing is rendered or written here. `load_kit` returns
the model and all problems (errors and warnings); callers decide what stops.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from kit import model as m
from kit.errors import KitError, Problems
from kit.parse import TextProblem, decode, parse_module
from kit.schema import COURSE, ORGANISATION, check_mapping
from kit.yamlload import YamlProblem, load_yaml

MODULE_RE = re.compile(r"^(\d{2})-([a-z0-9][a-z0-9-]*)\.md$")
COURSE_FILES = {"course.yaml", "introduction.md"}


@dataclass(frozen=True)
class Loaded:
    kit: m.Kit
    problems: Problems
    root: Path


def inside(path: Path, root: Path) -> bool:
    """True when `path`, after resolving '..' and links, lies inside `root`."""
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def read_text(path: Path, root: Path, problems: Problems) -> str | None:
    if not inside(path, root):
        problems.error(path, 1, "the file links to a place outside the kit; it is not read")
        return None
    try:
        return decode(path.read_bytes())
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
                          tuple(m.Product(p["id"], p["name"], p["about"]) for p in clean["products"]))


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
    own_org = organisation_from(meta["organisation"], data.get("organisation"), course_file, problems)
    organisation = org or own_org
    digest = hashlib.sha256()
    digest.update(text.encode())
    introduction = ""
    intro_file = folder / "introduction.md"
    if intro_file.exists():
        introduction = read_text(intro_file, root, problems) or ""
        digest.update(introduction.encode())
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
            sessions.append(session)
    if not numbers:
        problems.error(course_file, 1, "the course has no modules: add files such as 01-kick-off.md")
    return m.Course(folder.name, meta["title"], meta["subtitle"], meta["audience"], meta["language"],
                    meta["session_minutes"], meta["follows"], organisation, introduction,
                    tuple(sessions), m.Source(problems.rel(course_file), 1), digest.hexdigest()[:10])


def load_kit(root: Path, course: str | None = None, org_file: Path | None = None) -> Loaded:
    """Load every course of the kit at `root` (or just `course`)."""
    root = Path(root)
    problems = Problems(root)
    content = root / "content"
    if not content.is_dir():
        raise KitError(f"{root}: not a kit: there is no content/ folder (create one with 'kit init')")
    org = None
    if org_file is not None:
        org = load_org_profile(Path(org_file), problems)
    folders = sorted(p for p in content.iterdir() if p.is_dir() and not p.name.startswith("."))
    if course is not None:
        wanted = [f for f in folders if f.name == course]
        if not wanted:
            raise KitError(f"no course '{course}' in {content}; courses: "
                           f"{', '.join(f.name for f in folders) or 'none'}")
        folders = wanted
    courses = []
    for folder in folders:
        if not (folder / "course.yaml").exists():
            problems.error(folder / "course.yaml", 1, "every course folder needs a course.yaml")
            continue
        loaded = load_course(folder, root, problems, org)
        if loaded is not None:
            courses.append(loaded)
    if not folders:
        problems.error(content, 1, "the kit has no courses: add content/<course-slug>/course.yaml")
    return Loaded(m.Kit(tuple(courses)), problems, root)


def load_org_profile(path: Path, problems: Problems) -> m.Organisation | None:
    """An organisation profile: a YAML file with name, about and products."""
    if not path.is_file():
        problems.error(path, 1, "organisation profile not found")
        return None
    data, _ = load_yaml_file(path, path.parent, problems)
    if not isinstance(data, dict):
        if data is not None:
            problems.error(path, 1, "an organisation profile must be 'key: value' lines")
        return None
    clean = check_mapping(data, ORGANISATION, 1, "", lambda line, msg: problems.error(path, line, msg))
    return organisation_from(clean, data, path, problems)
