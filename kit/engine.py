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
from importlib import metadata
from pathlib import Path
from typing import Callable

from kit import __version__
from kit.errors import KitError
from kit.workers import Pool, WorkerDied

CACHE_DIR = ".kit-cache"
NOTES = ("anchors", "qr")  # JSON notes kept from build to build beside the cached PDFs


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to render one document (picklable)."""
    key: str
    html: str
    css: str
    base_url: str
    roots: tuple[str, ...]
    resources: str  # digest of the files the document may read
    store: str = ""  # the cache folder the worker writes the result into
    entry: str = ""  # the result's name there (its cache key)


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
    from kit.assemble import prepare

    try:
        rendered = pdf.render_pdf(job.html, job.css, job.base_url, [Path(r) for r in job.roots], job.key)
    except pdf.RefusedResource as exc:
        raise KitError(f"{job.key}: {exc}") from None
    # Prepared here, in parallel, and cached with the PDF: assembling then only copies.
    info = {"pages": rendered.pages, "anchors": rendered.anchors, "key": job.key}
    folder = Path(job.store)
    sums = store(folder, job.entry, {"pdf": rendered.pdf, "part": prepare(rendered.pdf)}, info)
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
            sums[kind] = _file_sha256(data)
            os.replace(data, target)
            continue
        sums[kind] = hashlib.sha256(data).hexdigest()
        _replace(target, data)
    _replace(folder / f"{entry}.json", json.dumps({**info, "sha256": sums}).encode())
    return sums


def _replace(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all: to a temporary name, then renamed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# What a worker imports before its first document (kit.pdf loads WeasyPrint).
WORKER_MODULES = ["kit.engine", "kit.assemble", "kit.pdf"]


def _engine_version() -> str:
    try:
        return metadata.version("weasyprint")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


def files_digest(folders: list[Path], skip_suffixes: tuple[str, ...] = ()) -> str:
    """A digest of every file under the folders (their names and bytes)."""
    digest = hashlib.sha256()
    for folder in folders:
        if not folder.is_dir():
            continue
        top = folder.resolve()
        for path in sorted(folder.rglob("*")):
            if not _inside(path, top):  # a link out of the kit: never read (the loader reports it)
                digest.update(b"outside\0" + str(path.relative_to(folder)).encode())
                continue
            if path.is_file() and path.suffix not in skip_suffixes and CACHE_DIR not in path.parts:
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top)
        return True
    except (ValueError, OSError, RuntimeError):
        return False


class Cache:
    """PDFs and their page anchors stored by key in OUT/.kit-cache/."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: set[str] = set()
        self.version = f"{__version__}/{_engine_version()}"

    def key(self, *parts: str) -> str:
        digest = hashlib.sha256(self.version.encode())
        for part in parts:
            digest.update(hashlib.sha256(part.encode()).digest())
        return digest.hexdigest()[:32]

    def job_key(self, job: Job) -> str:
        return self.key(job.key, job.html, job.css, job.base_url, job.resources)

    def get(self, key: str, kinds: tuple[str, ...] = ("pdf",)) -> dict | None:
        """The entry's information (with each file's SHA-256 under 'sha256'), if its files
        ('pdf', 'part') are all there and intact."""
        try:
            info = json.loads((self.folder / f"{key}.json").read_text())
            sums = info["sha256"]
            if any(_file_sha256(self.file(key, kind)) != sums[kind] for kind in kinds):
                return None
        except (OSError, ValueError, KeyError, TypeError):
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
        for path in self.folder.iterdir():
            if path.stem not in self.used and not path.name.startswith(("build-",) + NOTES):
                path.unlink(missing_ok=True)

    def load_note(self, name: str) -> dict:
        """A JSON note the last successful build left (page anchors, QR codes), or {}."""
        try:
            data = json.loads((self.folder / f"{name}.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_note(self, name: str, data: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _replace(self.folder / f"{name}.json", json.dumps(data, sort_keys=True).encode())

    def previous_anchors(self) -> dict:
        """Each document's page anchors as of the last successful build (by document key)."""
        return self.load_note("anchors")

    def record_anchors(self, anchors: dict) -> None:
        self.save_note("anchors", anchors)

    def _record(self, inputs: str) -> Path:
        return self.folder / f"build-{inputs}.json"

    def record_build(self, inputs: str, written: list[Path], warnings: list) -> None:
        """Remember a successful build: its inputs' digest, its outputs and their digests."""
        record = self._record(inputs)
        for old in self.folder.glob("build-*.json"):
            old.unlink(missing_ok=True)
        data = {"outputs": {str(p): _file_sha256(p) for p in written},
                "warnings": [w.as_dict() for w in warnings]}
        _replace(record, json.dumps(data).encode())

    def unchanged_build(self, inputs: str):
        """(outputs, warnings) when the last build had these inputs and its outputs are intact."""
        from kit.errors import Problem

        record = self._record(inputs)
        try:
            data = json.loads(record.read_text())
        except (OSError, ValueError):
            return None
        if not data:
            return None
        for path, digest in data["outputs"].items():
            try:
                if _file_sha256(Path(path)) != digest:
                    return None
            except OSError:
                return None
        return [Path(p) for p in data["outputs"]], [Problem(**w) for w in data["warnings"]]


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
            self._start_pool()
            self.pool.warm()

    def _start_pool(self) -> None:
        if self.pool is None:
            self.pool = Pool(self.jobs, DOCUMENTS_PER_WORKER, WORKER_MODULES)

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
        self._start_pool()
        try:
            return Pending(self, key, ticket=self.pool.submit(render_job, job))
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
                try:
                    result = self.renderer.pool.result(self._ticket)
                except WorkerDied as exc:
                    raise worker_died(exc) from None
            self.renderer._received(self.key, result)
            self._result = result
        return self._result
