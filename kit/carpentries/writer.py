"""Write an imported kit into its folder: each file whole or not at all, nothing through a link.

The folder must be new, empty, or an earlier import (it holds `.kit-import.json`, which
lists the files that import wrote): a re-import replaces those files and removes the
ones it no longer makes, and touches nothing else. Figures are read from the lesson
(bounded, never through a link) before anything is written.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from kit.errors import KitError, Problems
from kit.safefs import Unsafe, atomic_write, inside, read_bounded, real_folder

MARKER = ".kit-import.json"
MAX_FIGURE_BYTES = 20 * 1024 * 1024
MAX_MARKER_BYTES = 1024 * 1024


def earlier_files(kit_dir: Path) -> list[str] | None:
    """The files an earlier import wrote into `kit_dir` ([] for a new or empty folder);
    None when the folder holds files that are not an import's."""
    try:
        info = os.lstat(kit_dir)
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(info.st_mode):
        return None
    if not any(kit_dir.iterdir()):
        return []
    marker = kit_dir / MARKER
    try:
        data = json.loads(read_bounded(marker, MAX_MARKER_BYTES, within=kit_dir))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("importer") != "carpentries":
        return None
    files = data.get("files")
    if not isinstance(files, list):
        return None
    return [f for f in files if isinstance(f, str)]


def read_figures(lesson_dir: Path, figures: dict[str, str], problems: Problems) -> dict[str, bytes]:
    """The bytes of each figure (kit path -> lesson path); problems for those that cannot be read."""
    out = {}
    for kit_path, rel in sorted(figures.items()):
        try:
            out[kit_path] = read_bounded(lesson_dir / rel, MAX_FIGURE_BYTES, within=lesson_dir)
        except Unsafe as exc:
            problems.error(rel, 1, f"the figure is not copied: {str(exc).split(': ', 1)[-1]}")
        except OSError as exc:
            problems.error(rel, 1, f"cannot read the figure: {exc.strerror or exc}")
    return out


def _safe_target(kit_dir: Path, rel: str) -> Path:
    path = kit_dir / rel
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or not parts:
        raise KitError(f"{rel}: not a path inside the kit")
    if not real_folder(path.parent, kit_dir):
        raise KitError(f"{kit_dir}: {Path(rel).parent} is a link or a file; nothing more was written")
    return path


def write_kit(kit_dir: Path, files: dict[str, bytes], earlier: list[str]) -> list[Path]:
    """Write `files` (kit-relative path -> bytes) into `kit_dir`, then the marker; remove
    what the earlier import wrote and this one does not. Returns the paths written."""
    kit_dir.mkdir(parents=True, exist_ok=True)
    kit_dir = kit_dir.resolve()
    written = []
    for rel, data in files.items():
        path = _safe_target(kit_dir, rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise KitError(f"{path}: is a link or not a file; it was not replaced")
        atomic_write(path, data)
        written.append(path)
    for rel in earlier:
        if rel in files or rel == MARKER:
            continue
        path = kit_dir / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute() or not inside(path.parent, kit_dir):
            continue
        if real_folder(path.parent, kit_dir) and path.is_file() and not path.is_symlink():
            path.unlink()
    marker = {"importer": "carpentries", "files": sorted(files)}
    atomic_write(kit_dir / MARKER, (json.dumps(marker, indent=1) + "\n").encode())
    return written
