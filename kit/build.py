"""`kit build`: load and validate everything, then render, then write.

Phase one loads the whole kit and stops on any content error, before a single
PDF is made (as MkDocs' build does). Phase two renders every document's HTML,
then its PDF, then assembles the whole-course PDFs. Only when everything has
rendered are the outputs moved into place, each by an atomic rename: a failed
build leaves earlier outputs as they were.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from kit import i18n
from kit import model as m
from kit import qr
from kit.check import kit_warnings, read_debriefs
from kit.delivery import Delivery, load_delivery
from kit.errors import KitError, Problem
from kit.loader import load_kit
from kit.paths import PACKAGE, bundled_templates
from kit.safefs import (Unsafe, inside, ordinary_mode, read_bounded, real_folder, remove_our_temporaries,
                        sha256_bounded, temporary)
from kit.render import environment, render_template, stylesheet
from kit.views import feedback_card_id, run_of_show, segment_anchor, worksheet_view

PAPERS = {"a4": "A4", "letter": "letter"}


@dataclass(frozen=True)
class BuildOptions:
    out: Path
    course: str | None = None
    paper: str = "a4"
    org: Path | None = None
    delivery: Path | None = None
    jobs: int = 0  # worker processes; 0: one per core
    strict: bool = False  # any warning stops the build, before anything is rendered or written
    debriefs: Path | None = None  # earlier deliveries' debriefs: what each segment took, and warnings


@dataclass(frozen=True)
class Document:
    """One PDF to render: its HTML and where its pieces may be read from."""
    key: str          # e.g. "ml-for-engineering-teams/sessions/03-reducing-loss-guide.pdf"
    html: str
    base_url: str
    label: str        # "" (front matter) or "3-" (session-page numbers)
    recto: str = ""   # the id of an element that must start a right-hand page (kit.pdf.render_pdf)
    only: str = ""    # keep only the pages holding an element whose id starts with this (kit.pdf.render_pdf)


@dataclass
class BuildResult:
    written: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # as `kit check` finds them (kit.check.kit_warnings)
    rendered: list[str] = field(default_factory=list)  # documents rendered, not taken from the cache


def check_output_folder(out: Path, kit_root: Path) -> None:
    for protected in ("content", "templates"):
        folder = kit_root / protected
        if folder.exists() and (inside(out, folder) or out.resolve() == folder.resolve()):
            raise KitError(f"{out}: the output folder is inside the kit's {protected}/ folder; "
                           "choose another with -o")
    if inside(out, PACKAGE):
        raise KitError(f"{out}: the output folder is inside the installed package; choose another with -o")


def check_course_folders(out: Path, kit_root: Path, slugs: list[str]) -> None:
    """Refuse a course whose output folder (OUT/<slug>) would land in the kit's own
    content/ or templates/, or in the cache: a course named 'content' built with `-o .`."""
    from kit.engine import CACHE_DIR

    for slug in slugs:
        target = out / slug
        for protected in ("content", "templates"):
            if inside(target, kit_root / protected):
                raise KitError(f"content/{slug}: this course's PDFs would be written into the kit's "
                               f"{protected}/ folder; rename the course folder or choose another -o")
        if slug == CACHE_DIR:
            raise KitError(f"content/{slug}: a course may not be named {CACHE_DIR}")


def _same(path: Path, data: bytes | Path) -> bool:
    """Whether `path` is a regular file (not a link) already holding exactly `data`."""
    try:
        size = len(data) if isinstance(data, bytes) else data.stat().st_size
        if path.is_symlink() or not path.is_file() or path.stat().st_size != size:
            return False
        if isinstance(data, Path):
            return sha256_bounded(path, size, path.parent) == sha256_bounded(data, size)
        return read_bounded(path, size, path.parent) == data
    except OSError:
        return False


def write_atomically(files: Mapping[Path, bytes | Path], out: Path) -> list[Path]:
    """Write every file (given as bytes, or as a file to copy) to a temporary name beside
    it, then rename them all into place. Every file lies below `out`, reached through real
    folders only: a link planted in an output folder is never written through.

    A file whose bytes are already the same is left alone (its time stamp too).
    """
    for folder in dict.fromkeys(path.parent for path in files):
        if not real_folder(folder, out):
            raise KitError(f"{folder}: is a link or a file, not a folder; nothing was "
                           "written through it (remove it, or choose another -o)")
        folder.mkdir(parents=True, exist_ok=True)
        remove_our_temporaries(folder)  # what a killed build may have left here, and only that
    staged = []
    try:
        for path, data in files.items():
            if _same(path, data):
                continue
            fd, tmp = temporary(path)
            staged.append((tmp, path))
            os.fchmod(fd, ordinary_mode())  # mkstemp makes 0600; outputs are ordinary files
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, Path):
                    with open(data, "rb") as source:
                        shutil.copyfileobj(source, handle, 1 << 20)
                else:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return list(files)


class Planner:
    """Turns a validated course into documents (HTML), without a PDF engine."""

    def __init__(self, kit_root: Path, options: BuildOptions, delivery: Delivery | None = None,
                 debriefs: list | None = None):
        self.kit_root = kit_root
        self.options = options
        self.delivery = delivery
        self.debriefs = debriefs or []  # kit.debrief.Debrief
        self.env = environment(kit_root)
        self.envs = {"en": self.env}  # by language: the templates print the kit's words in it
        base = stylesheet(self.env, "base.css")
        self.css = {name: base + stylesheet(self.env, name) for name in ("guide.css", "worksheet.css")}
        paper = PAPERS[options.paper]
        self.page_css = f"@page {{ size: {paper}; }}\n"

    def localised(self, course: m.Course) -> m.Course:
        """The course as printed: in the delivery's language when its file sets one (an
        organisation profile's `language` is already the course's, kit.orgs.apply_org)."""
        wanted = self.delivery.language if self.delivery is not None else ""
        return dataclasses.replace(course, language=wanted) if wanted and wanted != course.language else course

    def env_for(self, course: m.Course):
        """The template environment that prints the kit's words in the course's language."""
        language = course.language
        if language not in self.envs:
            self.envs[language] = environment(self.kit_root, language)
        return self.envs[language]

    def base_url(self, course: m.Course) -> str:
        return (self.kit_root / "content" / course.slug).resolve().as_uri() + "/"

    def common(self, course: m.Course) -> dict:
        return {"course": course, "organisation": course.organisation, "paper": self.options.paper,
                "products": {p.id: p for p in course.organisation.products},
                "delivery": self.delivery}

    def dates(self, course: m.Course) -> dict[int, str]:
        """Each session's date as printed ('' without a delivery)."""
        if self.delivery is None:
            return {s.number: "" for s in course.sessions}
        days = self.delivery.dates(len(course.sessions))
        return {s.number: i18n.format_date(day, course.language) for s, day in zip(course.sessions, days)}

    def guide_session(self, course: m.Course, session: m.Session) -> Document:
        from kit.views import guide_context

        course = self.localised(course)
        start = self.delivery.start_minutes if self.delivery else None
        with i18n.using(course.language):
            rows = run_of_show(session, start)
            html = render_template(self.env_for(course), "guide-session.html", session=session,
                                   date=self.dates(course)[session.number],
                                   rows=rows, segments=list(zip(rows, session.segments)),
                                   **guide_context(session, start, course, took=self.took(course, session)),
                                   **self.common(course))
        return Document(f"{course.slug}/sessions/{session.stem}-guide.pdf", html,
                        self.base_url(course), f"{session.number}-")

    def took(self, course: m.Course, session: m.Session) -> dict[int, str]:
        """What each segment took in earlier deliveries ('planned 15 · took 19 in 3 of 4
        cohorts'), by segment index; empty without debriefs."""
        from kit.debrief import course_debriefs, segment_stats

        mine = course_debriefs(course, self.debriefs)
        return {s.index: s.took() for s in segment_stats(session, mine) if s.actual} if mine else {}

    def worksheet_session(self, course: m.Course, session: m.Session) -> Document:
        # "W3-2": a participant's page number never reads like the guide's own 3-2. The
        # tear-off feedback card starts a right-hand page, so that printed on both sides
        # nothing a participant wrote is on its back.
        doc = self._worksheet(course, session, worksheet_view, "worksheet", f"W{session.number}-")
        return dataclasses.replace(doc, recto=feedback_card_id(session.id))

    def answer_key(self, course: m.Course, session: m.Session) -> Document:
        """The session's worksheet with the answers filled in, laid out as the worksheet is,
        keeping only its pages that have answers (each still says which worksheet page it
        is): the last pages of the session's guide (never a participant's document)."""
        from kit.views import answer_key_view, answer_prefix

        doc = self._worksheet(course, session, answer_key_view, "answer-key", f"K{session.number}-")
        return dataclasses.replace(doc, only=answer_prefix(session.id))

    def _worksheet(self, course: m.Course, session: m.Session, view, name: str, label: str) -> Document:
        """worksheet-session.html with `view` (the participants' or the answer key's)."""
        course = self.localised(course)
        with i18n.using(course.language):
            ws = view(session, self.dates(course)[session.number])
            html = render_template(self.env_for(course), "worksheet-session.html", ws=ws,
                                   course_title=course.title, language=course.language)
        return Document(f"{course.slug}/sessions/{session.stem}-{name}.pdf", html, self.base_url(course), label)

    def guide_intro(self, course: m.Course) -> Document:
        """The introduction and the course at a glance, numbered 0-1, 0-2 ..."""
        from kit.views import front_context

        course = self.localised(course)
        with i18n.using(course.language):
            html = render_template(self.env_for(course), "guide-intro.html", **front_context(course),
                                   **self.common(course))
        return Document(f"{course.slug}/sessions/00-introduction-guide.pdf", html, self.base_url(course), "0-")

    def guide_front(self, course: m.Course, pages: dict[str, dict],
                    intro_anchors: dict | None = None) -> Document:
        """The cover and contents; `pages` maps a session's id to its anchors (name -> page index)."""
        course = self.localised(course)
        words = i18n.translator(course.language)
        intro_toc = []
        if intro_anchors is not None:
            if course.introduction:
                intro_toc.append((self.intro_title(course), f"0-{intro_anchors.get('introduction', 0) + 1}"))
            intro_toc.append((words.gettext("The course at a glance"),
                              f"0-{intro_anchors.get('course-glance', 0) + 1}"))
        toc = []
        for session in course.sessions:
            anchors = pages.get(session.id, {})
            segs = [(seg.title, f"{session.number}-{anchors.get(segment_anchor(session, i), 0) + 1}")
                    for i, seg in enumerate(session.segments)]
            toc.append((session, f"{session.number}-1", segs))
        dates = self.dates(course)
        schedule = [(session, dates[session.number]) for session in course.sessions]
        with i18n.using(course.language):
            html = render_template(self.env_for(course), "guide-front.html", toc=toc, schedule=schedule,
                                   intro_toc=intro_toc, **self.common(course))
        return Document(f"{course.slug}/front-guide.pdf", html, self.base_url(course), "")

    @staticmethod
    def intro_title(course: m.Course) -> str:
        from kit.views import introduction

        return introduction(course.introduction).title or i18n.translator(course.language).gettext(
            "How to run this course")

    def worksheet_front(self, course: m.Course) -> Document:
        course = self.localised(course)
        with i18n.using(course.language):
            html = render_template(self.env_for(course), "worksheet-front.html", course=course,
                                   sessions=course.sessions)
        return Document(f"{course.slug}/front-worksheet.pdf", html, self.base_url(course), "")


def build(kit_root: Path, options: BuildOptions,
          progress: Callable[[int, int, str], None] | None = None) -> BuildResult:
    """Build every course of the kit (or one) into options.out. Raises KitError.

    `progress(done, total, label)` is called as each document is ready.
    """
    from kit.engine import CACHE_DIR, Cache

    kit_root = Path(kit_root).resolve()
    out = Path(options.out).resolve()
    check_output_folder(out, kit_root)
    try:
        with Cache(out / CACHE_DIR, out) as cache:  # one build at a time in an output folder
            return _build(kit_root, out, options, cache, progress)
    except OSError as exc:  # the output folder cannot be made or written (a file in the way, a full disk)
        where = exc.filename or out
        raise KitError(f"{where}: cannot write the build: {exc.strerror or exc}; "
                       "PDFs from earlier builds are as they were") from None


def _build(kit_root: Path, out: Path, options: BuildOptions, cache,
           progress: Callable[[int, int, str], None] | None) -> BuildResult:
    from kit.engine import Job, Renderer

    inputs = inputs_digest(kit_root, options, cache)
    unchanged = cache.unchanged_build(inputs)
    if unchanged is not None:  # the same inputs as the last successful build: nothing to do
        written, warnings = unchanged
        refuse_warnings(warnings, options)
        return BuildResult(written, warnings, [])
    jobs = options.jobs or cores()
    outputs: dict[Path, Path] = {}  # each output and the cache file it is copied from
    with Renderer(jobs, cache, progress) as renderer:
        renderer.warm()  # the workers import WeasyPrint while this process loads and plans
        codes = cache.load_note("qr")
        if codes.get("version") == qr.version() and isinstance(codes.get("codes"), dict):
            qr.remember(codes["codes"])  # a rebuild chooses masks only for new links
        warnings, planner, plans = load_and_plan(kit_root, options)
        check_course_folders(out, kit_root, [course.slug for course, *_ in plans])
        roots = tuple(str(r) for r in (kit_root / "content", kit_root / "templates", bundled_templates()))
        kit_uri = kit_root.as_uri() + "/"

        def job(doc: Document, css_name: str, resources: str) -> Job:
            place = doc.base_url[len(kit_uri):] if doc.base_url.startswith(kit_uri) else doc.base_url
            return Job(doc.key, doc.html, planner.page_css + planner.css[css_name], doc.base_url, roots,
                       resources, place=place, recto=doc.recto, only=doc.only)

        # sessions' guides, sheets and answer keys, the introduction, the fronts
        renderer.expect(sum(3 * len(s) + 3 for _, _, _, s, _, _ in plans))
        pending = []
        for _, resources, guides, sheets, sheet_front, keys in plans:
            pending.append((
                [renderer.submit(job(d, "guide.css", resources)) for d in guides],
                [renderer.submit(job(d, "worksheet.css", resources)) for d in sheets],
                renderer.submit(job(sheet_front, "worksheet.css", resources)),
                [renderer.submit(job(d, "worksheet.css", resources)) for d in keys]))
        # The contents need every session's page numbers, so the cover and contents come
        # last. Rather than wait, render them now with the page numbers the sessions had in
        # the last build; if the fresh sessions agree (an edit rarely moves a heading to
        # another page), that rendering is the one kept.
        previous = cache.previous_anchors()
        guesses = []
        for (course, resources, guides, *_), (p_guides, *_) in zip(plans, pending):
            guess = [known.anchors if (known := p.known()) else previous.get(d.key) for d, p in zip(guides, p_guides)]
            speculative = None
            if all(a is not None for a in guess):
                doc = planner.guide_front(course, dict(zip((s.id for s in course.sessions), guess[1:])), guess[0])
                speculative = renderer.submit(job(doc, "guide.css", resources))
            guesses.append((guess, speculative))
        all_anchors = {}
        for (course, resources, guides, sheets, _, keys), (p_guides, p_sheets, p_front, p_keys), \
                (guess, speculative) in zip(plans, pending, guesses):
            words = i18n.translator(course.language)
            rendered_guides = [p.get() for p in p_guides]  # the introduction, then each session
            actual = [r.anchors for r in rendered_guides]
            all_anchors.update({d.key: a for d, a in zip(guides, actual)})
            if speculative is not None and actual == guess:
                front = speculative.get()
            else:
                anchors = dict(zip((s.id for s in course.sessions), actual[1:]))
                renderer.expect(1 if speculative is not None else 0)
                front = renderer.submit(job(planner.guide_front(course, anchors, actual[0]), "guide.css",
                                            resources)).get()
            rendered_sheets = [p.get() for p in p_sheets]
            rendered_keys = [p.get() for p in p_keys]
            sheet_front = p_front.get()
            for doc, r in zip(guides[:1] + sheets, rendered_guides[:1] + rendered_sheets):
                outputs[out / doc.key] = r.pdf
            guide_parts: list[tuple] = [(front, ""), (rendered_guides[0], guides[0].label)]
            for session, doc, r, key_doc, key in zip(course.sessions, guides[1:], rendered_guides[1:],
                                                     keys, rendered_keys):
                # each session's guide ends with its answer key, from the next page on
                parts: list[tuple] = [(r, doc.label), (key, key_doc.label, False)]
                outputs[out / doc.key] = assembled(
                    cache, parts, words.gettext("%(course)s: session %(number)s, %(title)s")
                    % {"course": course.title, "number": session.number, "title": session.title},
                    course.language)
                guide_parts += parts
            outputs[out / course.slug / "facilitator-guide.pdf"] = assembled(
                cache, guide_parts, words.gettext("%(course)s: facilitator guide") % {"course": course.title},
                course.language)
            outputs[out / course.slug / "participant-worksheets.pdf"] = assembled(
                cache, [(sheet_front, "")] + [(r, d.label) for d, r in zip(sheets, rendered_sheets)],
                words.gettext("%(course)s: participant worksheets") % {"course": course.title}, course.language)
    written = write_atomically(outputs, out)
    if options.course is None:
        cache.prune()
    cache.record_build(inputs, written, warnings)
    cache.record_anchors(all_anchors)
    cache.save_note("qr", {"version": qr.version(), "codes": qr.made()})
    return BuildResult(written, warnings, renderer.rendered)


def cores() -> int:
    """The cores this process may run on (a container or `taskset` may allow fewer than
    the machine has): the default number of rendering workers."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def refuse_warnings(warnings: list[Problem], options: BuildOptions) -> None:
    """With `strict`, any warning stops the build: a KitError that lists them."""
    if options.strict and warnings:
        raise KitError(warnings)


def load_and_plan(kit_root: Path, options: BuildOptions):
    """Phase one, load and validate everything (stop on any error, or with `strict` on any
    warning); phase two, every document's HTML, so that a template error too stops the
    build before any PDF. Returns the warnings (those of `kit check`), the planner and
    each course's documents."""
    from kit.engine import files_digest

    loaded = load_kit(kit_root, options.course, options.org)
    delivery = load_delivery(Path(options.delivery), loaded.problems) if options.delivery else None
    debriefs = read_debriefs(options.debriefs, loaded) if options.debriefs else None
    loaded.problems.raise_if_errors()
    warnings = kit_warnings(loaded, debriefs)
    refuse_warnings(warnings, options)
    planner = Planner(kit_root, options, delivery, debriefs)
    plans = []
    for course in loaded.kit.courses:
        course = planner.localised(course)  # its language, as the delivery may set it
        resources = files_digest([kit_root / "content" / course.slug, kit_root / "templates"],
                                 skip_suffixes=(".md", ".yaml"), root=kit_root) + files_digest([bundled_templates()])
        guides = [planner.guide_session(course, s) for s in course.sessions]
        sheets = [planner.worksheet_session(course, s) for s in course.sessions]
        keys = [planner.answer_key(course, s) for s in course.sessions]
        sheet_front = planner.worksheet_front(course)
        plans.append((course, resources, [planner.guide_intro(course)] + guides, sheets, sheet_front, keys))
    return warnings, planner, plans


def inputs_digest(kit_root: Path, options: BuildOptions, cache) -> str:
    """A digest of everything a build reads: the kit's files, the bundled templates, options."""
    from kit.engine import files_digest
    from kit.parse import MAX_MODULE_BYTES

    extra = [Path(p) for p in (options.org, options.delivery) if p]
    parts = [files_digest([kit_root / "content", kit_root / "templates"], root=kit_root),
             files_digest([bundled_templates()])]
    if options.debriefs:
        parts.append(files_digest([Path(options.debriefs)]))
    for path in extra:  # read as the loader will (which reports a bad one): bounded, regular files only
        try:
            parts.append(hashlib.sha256(read_bounded(path, MAX_MODULE_BYTES)).hexdigest())
        except (Unsafe, OSError) as exc:
            parts.append(f"unread:{path}:{exc}")
    parts += [repr((options.course, options.paper, str(options.org), str(options.delivery), str(options.debriefs)))]
    return cache.key("inputs", *parts)


def assembled(cache, parts: list, title: str, lang: str) -> Path:
    """A whole-course PDF from its parts (in the cache), taken from the cache when no part changed.
    Each part is (rendered, page-label prefix), and starts on a right-hand page, or
    (rendered, prefix, False) to follow on the next page whatever its side."""
    from kit.assemble import Part, assemble

    rectos = [bool(rest[0]) if rest else True for _, _, *rest in parts]
    key = cache.key("assembled", title, lang, *(r.sha256 + label + ("" if recto else ":next")
                                                 for (r, label, *_), recto in zip(parts, rectos)))
    if cache.get(key) is not None:
        return cache.file(key, "pdf")
    fd, tmp = temporary(cache.file(key, "pdf"))
    try:
        with os.fdopen(fd, "wb") as handle:
            assemble([Part(r.part, label, recto, digest=bytes.fromhex(r.sha256)[:16])
                      for (r, label, *_), recto in zip(parts, rectos)], title, lang, handle)
        cache.put(key, {"pdf": tmp}, {"pages": 0, "anchors": {}, "key": title})
    finally:
        tmp.unlink(missing_ok=True)
    return cache.file(key, "pdf")
