"""Reading and writing files that a kit or an output folder brings, without trusting them.

A kit is shared like a document, and so may be the output folder that comes with it
(its cache, its build record). Whatever names a path there may name one outside
it, a device that never ends, a pipe that blocks, or a link to a secret. So:

- `inside` is the one test of "does this path, after '..' and links, lie in that folder";
- `open_regular` opens a file without following a final link and without blocking on a
  pipe, and refuses anything but a regular file, outside its folder, or over a size;
- `read_bounded` and `sha256_bounded` read through it, never more than their limit;
- `atomic_write` writes a file whole or not at all, under a temporary name that is
  ours alone (`.NAME.kit-XXXXXXXX.tmp`), so that cleaning up never touches a user's file.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path


class Unsafe(OSError):
    """A path that is not a regular file inside its folder, or too large to read."""


class TooLarge(Unsafe):
    """A regular file over the size limit (found before reading, or while reading)."""


# Temporary files this program makes: '.' + the target's name + '.kit-' + 8 random characters.
TMP_INFIX = ".kit-"
TMP_RE = re.compile(r"^\..+\.kit-[a-z0-9_]{8}\.tmp$")


def inside(path: Path, root: Path) -> bool:
    """True when `path`, after resolving '..' and links, lies inside `root` (or is it)."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def open_regular(path: Path, limit: int, within: Path | None = None) -> int:
    """An open file descriptor of `path`, which must be a regular file of at most `limit`
    bytes, not itself a symbolic link, and (if `within` is given) inside that folder.

    Opened with O_NONBLOCK so that a named pipe cannot stall the build, and checked with
    fstat on what was opened, so nothing is swapped between the check and the read.
    """
    path = Path(path)
    if within is not None and not inside(path, within):
        raise Unsafe(f"{path}: lies outside {within}")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unsafe(f"{path}: is a symbolic link") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unsafe(f"{path}: not a regular file")
        if info.st_size > limit:
            raise TooLarge(f"{path}: larger than {limit:,} bytes ({info.st_size:,})")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bounded(path: Path, limit: int, within: Path | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see `open_regular`)."""
    fd = open_regular(path, limit, within)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew after the check
        raise TooLarge(f"{path}: larger than {limit:,} bytes")
    return data


def sha256_bounded(path: Path, limit: int, within: Path | None = None) -> str:
    """The SHA-256 of a regular file of at most `limit` bytes, read in blocks."""
    fd = open_regular(path, limit, within)
    digest = hashlib.sha256()
    seen = 0
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            seen += len(block)
            if seen > limit:
                raise TooLarge(f"{path}: larger than {limit:,} bytes")
            digest.update(block)
    return digest.hexdigest()


def real_folder(folder: Path, top: Path) -> bool:
    """Whether `folder` is `top` or lies below it through real folders only (no link on
    the way from `top`), so that what is written there stays there."""
    folder, top = Path(folder), Path(top)
    try:
        rel = folder.relative_to(top)
    except ValueError:
        return False
    here = top
    for part in rel.parts:
        here = here / part
        try:
            info = os.lstat(here)
        except FileNotFoundError:
            return True  # made by us below a real folder
        if not stat.S_ISDIR(info.st_mode):  # a link (to anywhere) or a file
            return False
    return True


def temporary(target: Path) -> tuple[int, Path]:
    """A new temporary file beside `target`, named as ours: (descriptor, path)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}{TMP_INFIX}", suffix=".tmp", dir=target.parent)
    return fd, Path(tmp)


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` whole or not at all: a temporary file beside it, flushed to
    disk, then renamed over it. `mode` defaults to an ordinary file's (0666 less umask)."""
    fd, tmp = temporary(path)
    try:
        os.fchmod(fd, mode if mode is not None else ordinary_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_our_temporaries(folder: Path) -> None:
    """Remove what a killed run left in `folder` (not below it): regular files named as
    `temporary` names them, and nothing else."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if TMP_RE.match(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def ordinary_mode() -> int:
    """The permissions a new ordinary file gets here (0666 less the umask); mkstemp's are 0600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
