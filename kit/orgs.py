"""Organisation profiles: run the course with another company's products.

A profile (YAML, passed with `--org`) declares a company, its products and,
optionally, its own examples, each placed in a session's segment. Applying it
to a course (`apply_org`, a pure function on the frozen model):

- the course's organisation becomes the profile's;
- the profile's examples are inserted in their segments;
- in a session that has an example for one of the profile's products, the
  course's examples for other products are dropped;
- in a session that has none (a *gap*), each of the course's examples becomes
  a "bring your own example" block that prints it as a model, with room to write.

No file access here: kit.loader reads the profile and reports the problems.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

from kit import model as m
from kit.kinds import ByoKind, ExampleKind
from kit.schema import LANGUAGE_RE, ORGANISATION, PRODUCT_ID, List, Map, Str

# One example of the profile's own: where it goes, and what it says.
EXAMPLE = {
    "course": Str(),    # a course's folder name; may be left out when the kit has one course
    "session": Str(required=True),  # NN, a number, the slug or NN-slug
    "segment": Str(),   # a segment's title; default: see default_segment
    "title": Str(required=True),
    "product": Str(required=True, pattern=PRODUCT_ID, hint="lower-case letters, digits and '-'"),
    "text": Str(required=True),
}

PROFILE = {**ORGANISATION, "examples": List(Map(EXAMPLE)),
           # the language the kit prints the course in for this organisation (kit.i18n)
           "language": Str(pattern=LANGUAGE_RE, hint="a language code such as de or fr-CH")}

Report = Callable[[int, str], None]


@dataclass(frozen=True)
class ProfileExample:
    course: str      # '' when the profile leaves it out
    session: str
    segment: str     # '' for the default segment
    example: m.Example
    lines: dict      # key -> line in the profile, for messages

    def line(self, key: str) -> int:
        return self.lines.get(key, self.example.src.line)


@dataclass(frozen=True)
class Profile:
    organisation: m.Organisation
    examples: tuple[ProfileExample, ...]
    path: str        # as shown in messages
    text: str = ""   # the profile's text, to find the lines of what its examples name
    language: str = ""  # '' : the course's own

    @property
    def product_ids(self) -> frozenset[str]:
        return frozenset(p.id for p in self.organisation.products)


def profile_from(clean: dict, raw, organisation: m.Organisation, path: str, text: str,
                 report: Report) -> Profile:
    """The profile from values checked against PROFILE; `raw` (the YAML) gives the lines.

    Reports each example whose product the profile does not declare.
    """
    raw_examples = raw.get("examples") if isinstance(raw, dict) else None
    item_lines = list(getattr(raw_examples, "lines", []))
    raw_items = list(raw_examples) if isinstance(raw_examples, list) else []
    declared = {p.id for p in organisation.products}
    examples = []
    for i, item in enumerate(clean["examples"]):
        line = item_lines[i] if i < len(item_lines) else getattr(raw_examples, "line", 1)
        raw_item = raw_items[i] if i < len(raw_items) else None
        lines = dict(getattr(raw_item, "lines", {})) if isinstance(raw_item, dict) else {}
        product = item["product"]
        if product and product not in declared:
            report(lines.get("product", line),
                   f"example names product '{product}', which the profile does not declare; "
                   f"its products: {', '.join(sorted(declared)) or 'none'}")
        example = m.Example(item["title"], product, item["text"], m.Source(path, line))
        examples.append(ProfileExample(item["course"], item["session"], item["segment"], example, lines))
    return Profile(organisation, tuple(examples), path, text, clean.get("language") or "")


# --- where each example goes ---------------------------------------------------------

def find_segment(session: m.Session, title: str) -> int | None:
    """The index of the segment called `title` (exactly, else ignoring case and spacing)."""
    found = m.matching_titles([seg.title for seg in session.segments], title)
    return found[0] if len(found) == 1 else None


def default_segment(session: m.Session) -> int | None:
    """Where an example goes when the profile names no segment: the first segment that
    holds one of the course's examples, else the first discussion, else the first that is
    not a break."""
    for test in (lambda s: s.of_kind(ExampleKind.name), lambda s: s.kind == "discussion",
                 lambda s: s.kind != "break"):
        for i, seg in enumerate(session.segments):
            if test(seg):
                return i
    return None


def _course_of(ex: ProfileExample, slugs: Sequence[str]) -> str:
    if ex.course:
        return ex.course
    return slugs[0] if len(slugs) == 1 else ""


def place(ex: ProfileExample, course: m.Course) -> tuple[m.Session, int] | None:
    """The session and segment index the example goes into; None when it names none of them."""
    session = course.session(ex.session)
    if session is None or not session.segments:
        return None
    index = find_segment(session, ex.segment) if ex.segment else default_segment(session)
    return None if index is None else (session, index)


def placement_problems(profile: Profile, courses: Sequence[m.Course],
                       slugs: Sequence[str]) -> list[tuple[int, str]]:
    """(line, message) for every example of the profile that names no place in the kit.

    `slugs` are all the kit's courses; `courses` the ones loaded (`--course` may leave some
    out: examples for those are not checked against their sessions).
    """
    found = []
    loaded = {c.slug: c for c in courses}
    for ex in profile.examples:
        slug = _course_of(ex, slugs)
        if not slug:
            found.append((ex.example.src.line, "the kit has several courses: say which this example is "
                                               f"for with 'course:', one of {', '.join(slugs)}"))
            continue
        if slug not in slugs:
            found.append((ex.line("course"), f"no course '{slug}' in the kit; courses: "
                                             f"{', '.join(slugs) or 'none'}"))
            continue
        course = loaded.get(slug)
        if course is None:
            continue
        session = course.session(ex.session)
        if session is None:
            listed = ", ".join(s.stem for s in course.sessions) or "none"
            found.append((ex.line("session"), f"no session '{ex.session}' in course '{slug}'; "
                                              f"sessions: {listed}"))
            continue
        if place(ex, course) is None:
            titles = "; ".join(f"'{seg.title}'" for seg in session.segments) or "none"
            what = f"no segment called '{ex.segment}'" if ex.segment else "no segment to put the example in"
            found.append((ex.line("segment"), f"{what} in session {session.stem}; "
                                              f"the segments are: {titles}"))
    return found


# --- applying a profile to a course ----------------------------------------------------

def _examples_for(course: m.Course, profile: Profile) -> dict[tuple[int, int], list[m.Example]]:
    """The profile's examples for this course, by (session number, segment index)."""
    placed: dict[tuple[int, int], list[m.Example]] = {}
    for ex in profile.examples:
        if ex.course not in ("", course.slug):
            continue
        where = place(ex, course)
        if where is not None:
            session, index = where
            placed.setdefault((session.number, index), []).append(ex.example)
    return placed


def _product_name(product_id: str, *organisations: m.Organisation) -> str:
    for org in organisations:
        product = org.product(product_id)
        if product is not None:
            return product.name
    return product_id


def apply_org(course: m.Course, profile: Profile) -> m.Course:
    """The course as run for the profile's organisation (see the module's docstring).

    `course` is the course as loaded, with its own organisation.
    """
    ours = profile.product_ids
    org = profile.organisation
    placed = _examples_for(course, profile)
    sessions = []
    for session in course.sessions:
        segments = []
        for index, seg in enumerate(session.segments):
            extra = placed.get((session.number, index), [])
            blocks = list(seg.blocks)
            at = next((i for i, b in enumerate(blocks) if b.kind == ExampleKind.name), len(blocks))
            blocks[at:at] = extra
            segments.append((seg, blocks))
        covered = any(isinstance(b, m.Example) and b.product in ours for _, blocks in segments for b in blocks)
        new_segments = []
        for seg, blocks in segments:
            kept = []
            for b in blocks:
                if isinstance(b, m.Example) and b.product not in ours:
                    if covered:
                        continue
                    b = m.ByoExample(b, _product_name(b.product, course.organisation, org), org.name,
                                     tuple(p.name for p in org.products), b.src)
                kept.append(b)
            new_segments.append(dataclasses.replace(seg, blocks=tuple(kept)))
        sessions.append(dataclasses.replace(session, segments=tuple(new_segments)))
    language = profile.language or course.language
    return dataclasses.replace(course, organisation=org, sessions=tuple(sessions), language=language)


def gaps(course: m.Course) -> tuple[m.Session, ...]:
    """The sessions of an applied course that print a 'bring your own example' box."""
    return tuple(s for s in course.sessions if s.blocks(ByoKind.name))


def gap_message(profile: Profile) -> str:
    org = profile.organisation
    ids = ", ".join(p.id for p in org.products) or "none declared"
    return (f"no example for {org.name}'s products ({ids}); "
            "the guide will print a 'bring your own example' box")


def example_texts(profile: Profile, course: m.Course) -> list[tuple[str, int]]:
    """The text of each of the profile's examples that goes into `course`, with its line."""
    return [(b.text, b.src.line) for blocks in _examples_for(course, profile).values() for b in blocks]
