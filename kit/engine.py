"""Rendering documents to PDF: in worker processes, through a content-keyed cache.

One WeasyPrint document does not get faster with more cores, so independent
documents (each session's guide and worksheet, the front matter) are rendered
in parallel processes. Each result is cached under the output folder, keyed by
everything that affects it (its final HTML and CSS, the resources it may read,
the kit's and WeasyPrint's versions): a rebuild renders only what changed.
WeasyPrint itself is imported only inside `render_job`, in whichever process
renders, never by the planning or checking code. Workers write their results
into the cache themselves and hand back file names, so the building process
never holds every document at once.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from kit import __version__
from kit.errors import KitError
from kit.fingerprint import renderer_fingerprint
from kit.safefs import (Unsafe, atomic_write, inside, read_bounded, real_folder, remove_our_temporaries,
                        sha256_bounded)
from kit.workers import Pool, WorkerDied

CACHE_DIR = ".kit-cache"
NOTES = ("anchors", "qr")  # JSON notes kept from build to build beside the cached PDFs
LOCK = "lock"  # held while a build uses the output folder

# Everything under the output folder is untrusted (it may come with a kit): every read there
# is of a regular file, inside the folder, within these sizes.
MAX_CACHED_FILE = 1 << 30      # a PDF or prepared part in the cache, or an output
MAX_CACHE_JSON = 4 << 20       # an entry's JSON, a note, the build record
MAX_DIGESTED_FILE = 64 << 20   # a kit file hashed for the cache key (the engine reads no larger)


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to render one document (picklable)."""
    key: str
    html: str
    css: str
    base_url: str
    roots: tuple[str, ...]
    resources: str  # digest of the files the document may read
    place: str = ""  # the base URL relative to the kit, for the cache key: a moved kit keeps its cache
    store: str = ""  # the cache folder the worker writes the result into
    entry: str = ""  # the result's name there (its cache key)
    recto: str = ""  # an element that must start a right-hand page (kit.pdf.render_pdf)
    only: str = ""   # keep only the pages holding an element whose id starts with this


@dataclass(frozen=True)
class Result:
    """A rendered document, as files in the cache (so that no process holds them all)."""
    key: str
    pdf: Path
    part: Path  # the PDF prepared for assembly (kit.assemble.prepare)
    sha256: str  # of the PDF
    pages: int
    anchors: dict
    cached: bool = False


def render_job(job: Job) -> Result:
    """Render one document into the cache. Runs in a worker process (or inline with one job)."""
    from kit import pdf
    from kit.assemble import finish, prepare

    try:
        rendered = pdf.render_pdf(job.html, job.css, job.base_url, [Path(r) for r in job.roots], job.key,
                                  recto=job.recto, only=job.only)
    except pdf.RefusedResource as exc:
        raise KitError(f"{job.key}: {exc}") from None
    # Prepared here, in parallel, and cached with the PDF: assembling then only copies.
    info = {"pages": rendered.pages, "anchors": rendered.anchors, "key": job.key}
    folder = Path(job.store)
    shipped = finish(rendered.pdf)
    sums = store(folder, job.entry, {"pdf": shipped, "part": prepare(shipped)}, info)
    return Result(job.key, folder / f"{job.entry}.pdf", folder / f"{job.entry}.part", sums["pdf"],
                  rendered.pages, rendered.anchors)


def store(folder: Path, entry: str, files: dict, info: dict) -> dict[str, str]:
    """Write a cache entry: its files by kind (bytes, or a finished temporary file to move
    into place), then the JSON that vouches for them. Returns each file's SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    sums = {}
    for kind, data in files.items():
        target = folder / f"{entry}.{kind}"
        if isinstance(data, Path):
            sums[kind] = sha256_bounded(data, MAX_CACHED_FILE)
            os.replace(data, target)
            continue
        sums[kind] = hashlib.sha256(data).hexdigest()
        atomic_write(target, data)
    atomic_write(folder / f"{entry}.json", json.dumps({**info, "sha256": sums}).encode())
    return sums


# What a worker imports before its first document (kit.pdf loads WeasyPrint).
WORKER_MODULES = ["kit.engine", "kit.assemble", "kit.pdf"]


def files_digest(folders: list[Path], skip_suffixes: tuple[str, ...] = (), root: Path | None = None) -> str:
    """A digest of every file under the folders (their names and bytes).

    Refuses before it reads: a folder that is a link, or that lies outside `root` (the
    kit; by default each folder itself), is not walked at all; below it, links are not
    followed into folders, a file link is read only if it stays inside `root`, only
    regular files are read, and a file larger than MAX_DIGESTED_FILE counts by its size
    and time instead of its bytes (the PDF engine refuses to read it anyway).
    """
    digest = hashlib.sha256()
    for folder in folders:
        top = Path(root) if root is not None else folder
        if folder.is_symlink() or not folder.is_dir() or not inside(folder, top):
            digest.update(b"absent\0" + folder.name.encode())
            continue
        for here, dirs, names in os.walk(folder):  # never into linked folders
            dirs.sort()
            base = Path(here)
            dirs[:] = [d for d in dirs if d != CACHE_DIR]
            for name in sorted(names) + [d for d in dirs if (base / d).is_symlink()]:
                path = base / name
                rel = str(path.relative_to(folder)).encode("utf-8", "surrogateescape")
                if path.suffix in skip_suffixes:
                    continue
                if path.is_symlink() and not inside(path, top):  # a link out: never read
                    digest.update(b"outside\0" + rel)
                    continue
                digest.update(rel + b"\0")
                try:
                    digest.update(bytes.fromhex(sha256_bounded(path, MAX_DIGESTED_FILE, top)))
                except Unsafe:
                    try:
                        info = path.stat()
                        digest.update(f"unread {info.st_mode} {info.st_size} {info.st_mtime_ns}".encode())
                    except OSError:
                        digest.update(b"unreadable")
                except OSError:
                    digest.update(b"unreadable")
    return digest.hexdigest()


class Cache:
    """PDFs and their page anchors stored by key in OUT/.kit-cache/.

    The folder may have come with the kit, so nothing in it is believed: every file is
    read bounded and only if it is a regular file inside the folder, paths it names are
    taken relative to the output folder and refused outside it, and a malformed entry is
    simply a miss. `open()` (or `with Cache(...)`) takes a lock that keeps a second build
    out of the same output folder.
    """

    def __init__(self, folder: Path, out: Path | None = None):
        self.folder = folder
        self.out = out if out is not None else folder.parent
        self.used: set[str] = set()
        self.version = f"{__version__}/{renderer_fingerprint()}"
        self._lock: int | None = None
        self._made: list[Path] = []

    def key(self, *parts: str) -> str:
        digest = hashlib.sha256(self.version.encode())
        for part in parts:
            digest.update(hashlib.sha256(part.encode()).digest())
        return digest.hexdigest()[:32]

    def job_key(self, job: Job) -> str:
        return self.key(job.key, job.html, job.css, job.place, job.resources, job.recto, job.only)

    # --- the folder and its lock

    def open(self) -> "Cache":
        """Make sure the cache is a real folder below the output folder, take the lock,
        and clear what a killed build left. Raises KitError if another build holds it."""
        import fcntl

        if not real_folder(self.folder, self.out) or (self.folder.exists() and not self.folder.is_dir()):
            raise KitError(f"{self.folder}: is a link or a file, not a folder; remove it or choose another -o")
        self._made = [f for f in (self.out, self.folder) if not f.exists()]
        self.folder.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(self.folder / LOCK, flags, 0o644)
        except OSError as exc:
            raise KitError(f"{self.folder / LOCK}: cannot open the build lock: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise KitError(f"{self.out}: another kit build is writing into this folder; wait for it to "
                           "finish, or build into another folder with -o") from None
        self._lock = fd
        remove_our_temporaries(self.folder)
        return self

    def close(self) -> None:
        """Release the lock. A build that stopped before writing anything (a content error)
        leaves no trace: the folders it made for the lock go again."""
        if self._lock is None:
            return
        if [e.name for e in os.scandir(self.folder)] == [LOCK]:
            (self.folder / LOCK).unlink(missing_ok=True)
        os.close(self._lock)  # releases the lock
        self._lock = None
        for folder in reversed(self._made):
            try:
                folder.rmdir()  # only if empty
            except OSError:
                break

    def __enter__(self) -> "Cache":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- reading, bounded

    def _json(self, name: str):
        try:
            return json.loads(read_bounded(self.folder / name, MAX_CACHE_JSON, self.folder))
        except (OSError, ValueError):
            return None

    def get(self, key: str, kinds: tuple[str, ...] = ("pdf",)) -> dict | None:
        """The entry's information (with each file's SHA-256 under 'sha256'), if its files
        ('pdf', 'part') are all there, intact and well formed."""
        info = self._json(f"{key}.json")
        try:
            sums = info["sha256"]
            if not (isinstance(info.get("pages", 0), int) and _anchors(info.get("anchors", {})) is not None):
                return None
            for kind in kinds:
                if sha256_bounded(self.file(key, kind), MAX_CACHED_FILE, self.folder) != sums[kind]:
                    return None
        except (OSError, KeyError, TypeError, AttributeError):
            return None
        self.used.add(key)
        return info

    def file(self, key: str, kind: str) -> Path:
        return self.folder / f"{key}.{kind}"

    def put(self, key: str, files: dict, info: dict) -> dict[str, str]:
        self.used.add(key)
        return store(self.folder, key, files, info)

    def prune(self) -> None:
        """Forget entries this build did not use (called after a whole-kit build)."""
        if not self.folder.is_dir():
            return
        for entry in os.scandir(self.folder):
            stem = entry.name.split(".", 1)[0]
            if entry.name == LOCK or stem in self.used or entry.name.startswith(("build-",) + NOTES):
                continue
            if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                Path(entry.path).unlink(missing_ok=True)

    def load_note(self, name: str) -> dict:
        """A JSON note the last successful build left (page anchors, QR codes), or {}."""
        data = self._json(f"{name}.json")
        return data if isinstance(data, dict) else {}

    def save_note(self, name: str, data: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / f"{name}.json", json.dumps(data, sort_keys=True).encode())

    def previous_anchors(self) -> dict:
        """Each document's page anchors as of the last successful build (by document key);
        only well-formed ones: they are a guess that the build checks anyway."""
        notes = self.load_note("anchors")
        return {k: a for k, v in notes.items() if isinstance(k, str) and (a := _anchors(v)) is not None}

    def record_anchors(self, anchors: dict) -> None:
        self.save_note("anchors", anchors)

    def _record(self, inputs: str) -> Path:
        return self.folder / f"build-{inputs}.json"

    def record_build(self, inputs: str, written: list[Path], warnings: list) -> None:
        """Remember a successful build: its inputs' digest, its outputs (relative to the
        output folder) and their digests."""
        record = self._record(inputs)
        for old in self.folder.glob("build-*.json"):
            old.unlink(missing_ok=True)
        data = {"outputs": {str(p.relative_to(self.out)): sha256_bounded(p, MAX_CACHED_FILE) for p in written},
                "warnings": [w.as_dict() for w in warnings]}
        atomic_write(record, json.dumps(data).encode())

    def unchanged_build(self, inputs: str):
        """(outputs, warnings) when the last build had these inputs and its outputs are intact.

        The record names outputs relative to the output folder; any that would lie outside
        it, or that is not a regular file there, makes the record worthless."""
        from kit.errors import Problem

        data = self._json(self._record(inputs).name)
        try:
            outputs = []
            for rel, digest in data["outputs"].items():
                path = self.out / rel
                if Path(rel).is_absolute() or not real_folder(path.parent, self.out):
                    return None
                if sha256_bounded(path, MAX_CACHED_FILE, self.out) != digest:
                    return None
                outputs.append(path)
            warnings = [Problem(**{**w, "col": w.get("col") or 0}) for w in data["warnings"]]
            if not all(isinstance(getattr(w, f), t) for w in warnings
                       for f, t in (("path", str), ("line", int), ("col", int), ("message", str))):
                return None
        except (OSError, KeyError, TypeError, AttributeError, ValueError):
            return None
        return outputs, warnings


def _anchors(value) -> dict | None:
    """`value` if it maps anchor names to page indexes, else None."""
    if isinstance(value, dict) and all(isinstance(k, str) and type(v) is int and 0 <= v < 1 << 20
                                       for k, v in value.items()):
        return value
    return None


# Each worker renders this many documents, then a fresh one takes its place (kit.workers).
DOCUMENTS_PER_WORKER = 6


def worker_died(exc: WorkerDied) -> KitError:
    return KitError(f"a rendering worker died ({exc}; out of memory?); try again with -j 1")


class Renderer:
    """Submits jobs to worker processes (or renders inline when jobs == 1), using the cache."""

    def __init__(self, jobs: int, cache: Cache, progress: Callable[[int, int, str], None] | None = None):
        self.jobs = max(1, jobs)
        self.cache = cache
        self.progress = progress
        self.pool: Pool | None = None
        self.rendered: list[str] = []  # document keys actually rendered (not from the cache)
        self.total = 0
        self.done = 0

    def warm(self) -> None:
        """Start the workers' fork server now, so that it imports WeasyPrint while the
        caller loads and plans (the workers, forked from it, never hold the model)."""
        if self.jobs > 1:
            self._start_pool().warm()

    def _start_pool(self) -> Pool:
        if self.pool is None:
            self.pool = Pool(self.jobs, DOCUMENTS_PER_WORKER, WORKER_MODULES)
        return self.pool

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.close(abort=exc[0] is not None)

    def expect(self, count: int) -> None:
        self.total += count

    def _tick(self, label: str) -> None:
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total, label)

    def submit(self, job: Job) -> "Pending":
        """Start rendering `job` (or take it from the cache); `.get()` waits for it."""
        key = self.cache.job_key(job)
        info = self.cache.get(key, ("pdf", "part"))
        if info is not None:
            self._tick(job.key)
            return Pending(self, key, result=Result(
                job.key, self.cache.file(key, "pdf"), self.cache.file(key, "part"), info["sha256"]["pdf"],
                info["pages"], info["anchors"], cached=True))
        self.rendered.append(job.key)
        job = replace(job, store=str(self.cache.folder), entry=key)
        if self.jobs == 1:
            return Pending(self, key, job=job)
        pool = self._start_pool()
        try:
            return Pending(self, key, ticket=pool.submit(render_job, job))
        except WorkerDied as exc:
            raise worker_died(exc) from None

    def _received(self, key: str, result: Result) -> None:
        self.cache.used.add(key)  # written to the cache by whoever rendered it
        self._tick(result.key)


class Pending:
    """A document being rendered. `get()` waits for it (handing out other documents to idle
    workers meanwhile) and counts it as done; the worker has already written it to the cache."""

    def __init__(self, renderer: Renderer, key: str, result: Result | None = None,
                 job: Job | None = None, ticket: int | None = None):
        self.renderer, self.key = renderer, key
        self._result, self._job, self._ticket = result, job, ticket

    def known(self) -> Result | None:
        """The result if it is already there (a cache hit), without waiting."""
        return self._result

    def get(self) -> Result:
        if self._result is None:
            if self._job is not None:
                result = render_job(self._job)
                self._job = None
            else:
                assert self.renderer.pool is not None and self._ticket is not None
                try:
                    result = self.renderer.pool.result(self._ticket)
                except WorkerDied as exc:
                    raise worker_died(exc) from None
            self.renderer._received(self.key, result)
            self._result = result
        return self._result
