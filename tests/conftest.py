"""Shared fixtures: `make_kit(tmp_path, files={...})` writes a small kit to disk."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

COURSE_YAML = """\
title: Fixture Course
audience: Engineers who test
organisation:
  name: Acme
  about: A test company.
  products:
    - id: widget
      name: Acme Widget
      about: Makes widgets.
"""

# A valid 30-minute session that uses every block kind. Facilitator-only strings
# are marked FAC-..., participant strings PART-..., so tests can look for them.
MODULE = """\
---
title: Fixture Session
minutes: 30
objectives:
  - Explain the fixture
prework:
  - title: PART-PREWORK-VIDEO
    url: https://example.org/video
    minutes: 12
    kind: video
materials: [Whiteboard]
preparation:
  - task: Read the module
    minutes: 30
think_about:
  - What is a fixture?
---
FAC-OVERVIEW of the session.

## Recap {minutes=10 kind=recap}

FAC-TALKING-POINT about the recap.

::: say
FAC-SAY welcome back.
:::

::: note
FAC-NOTE only for the facilitator.
:::

:::: prompt PART-PROMPT-TITLE
lines: 3

PART-PROMPT-TEXT: is it linear?

::: answer
FAC-ANSWER linear in the weights.
:::
::::

## Pair flip {minutes=15 kind=pair}

::: pair PART-PAIR-TITLE
a: PART-ROLE-A explains
b: PART-ROLE-B listens
minutes: 5
debrief:
  - PART-DEBRIEF what was hard?

PART-PAIR-TEXT explain it to your partner.
:::

::: anecdote FAC-ANECDOTE-TITLE
point: FAC-POINT the point
source: FAC-SOURCE the teacher
retell: FAC-RETELL in the third person

FAC-STORY once upon a time.
:::

::: example FAC-EXAMPLE-TITLE
product: widget

FAC-EXAMPLE-TEXT the widget learns.
:::

::: cut FAC-CUT skip the anecdote
saves: 5
:::

## Wrap-up {minutes=5 kind=wrap-up}

::: question
FAC-QUESTION why?

:::: answer
FAC-QANSWER because.
::::
:::

::: misconception
FAC-MISCONCEPTION more data always helps.

:::: answer
FAC-MANSWER not always.
::::
:::

::: check
FAC-CHECK thumbs up?
:::

::: timing
add: FAC-ADD another flip
:::
"""

FACILITATOR_ONLY = [
    "FAC-OVERVIEW", "FAC-TALKING-POINT", "FAC-SAY", "FAC-NOTE", "FAC-ANSWER", "FAC-ANECDOTE-TITLE",
    "FAC-POINT", "FAC-SOURCE", "FAC-RETELL", "FAC-STORY", "FAC-EXAMPLE-TITLE", "FAC-EXAMPLE-TEXT",
    "FAC-QUESTION", "FAC-QANSWER", "FAC-MISCONCEPTION", "FAC-MANSWER", "FAC-CHECK", "FAC-CUT", "FAC-ADD",
]
PARTICIPANT = ["PART-PREWORK-VIDEO", "PART-PROMPT-TITLE", "PART-PROMPT-TEXT", "PART-PAIR-TITLE",
               "PART-ROLE-A", "PART-ROLE-B", "PART-DEBRIEF", "PART-PAIR-TEXT"]


def write_kit(root: Path, files: dict[str, str | bytes] | None = None, course: str = "fixture",
              defaults: bool = True) -> Path:
    """Write a kit under root. `files` paths are relative to the kit; None removes a default."""
    all_files: dict = {}
    if defaults:
        all_files[f"content/{course}/course.yaml"] = COURSE_YAML
        all_files[f"content/{course}/01-fixture.md"] = MODULE
    all_files.update(files or {})
    for rel, text in all_files.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text) if text.startswith("\n") else text, encoding="utf-8")
    return root


@pytest.fixture
def make_kit(tmp_path):
    def make(files=None, **kwargs) -> Path:
        return write_kit(tmp_path / "kit", files, **kwargs)
    return make


def module(front: str = "title: T\nminutes: 10", body: str = "## S {minutes=10 kind=discussion}\n\nText.\n") -> str:
    return f"---\n{front}\n---\n{body}"


# The smallest valid session: one ten-minute segment. A build of it renders the same
# five documents as the fixture's, in about half the time; use it where a test is about
# the build (caching, output folders, processes), not about what the pages say.
TINY_MODULE = module()


def tiny_kit(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """A kit whose one session is TINY_MODULE (more files as for write_kit)."""
    return write_kit(root, {"content/fixture/01-fixture.md": TINY_MODULE, **(files or {})})


class SharedBuilds:
    """Builds of fixture kits, each made once per test run and shared by every test and every
    xdist worker that asks for the same kit with the same options (a file lock makes the
    others wait for the first). What they return is shared: read it, never change it.

    `get(files, defaults=True, **options)` writes the kit as `write_kit(root, files, defaults=...)`
    and builds it with `BuildOptions(out=..., jobs=1, **options)`; `org`, `delivery` and
    `debriefs` are paths inside the kit. Returns (kit root, output folder, BuildResult).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.memo: dict[str, tuple] = {}

    def get(self, files: dict | None = None, defaults: bool = True, **options):
        import fcntl
        import hashlib
        import pickle

        from kit.build import BuildOptions, build

        digest = hashlib.sha256(repr((sorted((files or {}).items()), defaults,
                                      sorted(options.items()))).encode()).hexdigest()[:16]
        if digest in self.memo:
            return self.memo[digest]
        self.folder.mkdir(parents=True, exist_ok=True)
        place = self.folder / digest
        with open(self.folder / f"{digest}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (place / "result.pickle").exists():
                work = self.folder / f"{digest}.{os.getpid()}.tmp"
                shutil.rmtree(work, ignore_errors=True)
                root = write_kit(work / "kit", files, defaults=defaults)
                paths = {k: root / v for k, v in options.items() if k in ("org", "delivery", "debriefs")}
                result = build(root, BuildOptions(out=work / "out", **{"jobs": 1, **options, **paths}))
                (work / "result.pickle").write_bytes(pickle.dumps((work, result)))
                os.replace(work, place)
        # The result's paths name the folder it was built in; they are moved, not changed.
        work, result = pickle.loads((place / "result.pickle").read_bytes())
        result.written[:] = [place / p.relative_to(work) for p in result.written]
        self.memo[digest] = (place / "kit", place / "out", result)
        return self.memo[digest]


def cached_copy(root: Path, built: Path, tmp_path: Path, out: Path | None = None) -> tuple[Path, Path]:
    """A copy of a built kit (`root`, built into `built`), and an output folder (`out`, by
    default tmp_path / "out") that holds that build's cache but none of its PDFs: a build
    into it renders nothing (every document is in the cache) and writes every output, as a
    first build does."""
    from kit.engine import CACHE_DIR

    root = shutil.copytree(root, tmp_path / "kit")  # first: `out` may be inside the copy
    out = out if out is not None else tmp_path / "out"
    shutil.copytree(built / CACHE_DIR, out / CACHE_DIR, symlinks=True)
    return root, out


def _shared_folder(tmp_path_factory) -> Path:
    """A folder every xdist worker of this run sees (the workers' base folders share a parent)."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-builds"


@pytest.fixture(scope="session")
def shared_builds(tmp_path_factory) -> SharedBuilds:
    return SharedBuilds(_shared_folder(tmp_path_factory))


@pytest.fixture(scope="session")
def fixture_build(shared_builds):
    """The fixture kit (every block kind) built once per test run, one worker:
    (kit root, output folder, BuildResult). Shared: read it, never change it."""
    return shared_builds.get()
