"""How large an image is, read from its header before anything decodes it.

The PDF engine decodes every raster image whole (Pillow), about four bytes a pixel:
a 12,000 x 12,000 PNG of a few kilobytes takes over a gigabyte. The loader asks
`image_file_problem` about each image a module names, so that such a file is an
error with its line before any rendering starts. PNG, JPEG, GIF and WebP headers
are read here; any other format Pillow knows is opened lazily (which reads only its
header); an SVG is read as text for the raster images it embeds or names, and for
how deep its elements nest (the engine draws SVG elements recursively).
"""
from __future__ import annotations

import base64
import functools
import io
import os
import re
import struct
import warnings
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

from kit.safefs import open_regular

MAX_PIXELS = 40_000_000        # 40 megapixels: 160 MB decoded; a full-page photo needs under 10
MAX_BYTES = 16 * 1024 * 1024   # one image file
MAX_SVG_BYTES = 2 * 1024 * 1024
MAX_SVG_DEPTH = 100            # SVG elements inside one another
HEAD = 64 * 1024

JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_SVG_TAG_RE = re.compile(rb"<(/?)([A-Za-z_][\w.:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>")
_HREF_RE = re.compile(rb"""(?:xlink:)?href\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_NOISE_RE = re.compile(rb"<!--|<!\[CDATA\[|<\?|<!")  # comments, CDATA, processing instructions, DOCTYPE
_NOISE_END = {b"<!--": b"-->", b"<![CDATA[": b"]]>", b"<?": b"?>", b"<!": b">"}


def _png(head: bytes) -> tuple[int, int] | None:
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    return None


def _webp(head: bytes) -> tuple[int, int] | None:
    if head[:4] != b"RIFF" or head[8:12] != b"WEBP" or len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    """The size in the first start-of-frame segment, skipping the segments before it."""
    handle.seek(2)
    for _ in range(10_000):
        if handle.read(1) != b"\xff":
            return None
        marker = handle.read(1)
        for _ in range(64):  # fill bytes before a marker
            if marker != b"\xff":
                break
            marker = handle.read(1)
        if not marker or marker in (b"\xff", b"\xd9", b"\xda"):  # the end, or scan data before a frame
            return None
        code = marker[0]
        if code == 0x01 or 0xD0 <= code <= 0xD8:  # markers without a length
            continue
        length = handle.read(2)
        if len(length) < 2:
            return None
        if code in JPEG_SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        handle.seek(max(struct.unpack(">H", length)[0] - 2, 0), io.SEEK_CUR)
    return None


def _gif(handle: BinaryIO, head: bytes) -> tuple[int, int] | None:
    """The logical screen, grown to hold the first frame (as Pillow grows it)."""
    if head[:6] not in (b"GIF87a", b"GIF89a") or len(head) < 13:
        return None
    width, height = struct.unpack("<HH", head[6:10])
    flags = head[10]
    handle.seek(13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0))
    steps = 0
    while steps < 100_000:
        kind = handle.read(1)
        if kind == b"\x2c":  # the first image descriptor
            box = handle.read(8)
            if len(box) < 8:
                break
            left, top, frame_width, frame_height = struct.unpack("<HHHH", box)
            return max(width, left + frame_width), max(height, top + frame_height)
        if kind != b"\x21":  # not an extension either: the end, or garbage
            break
        handle.read(1)  # the extension's label, then its sub-blocks
        while (size := handle.read(1)) and size != b"\x00" and steps < 100_000:
            handle.seek(size[0], io.SEEK_CUR)
            steps += 1
    return None if steps >= 100_000 else (width, height)


def _pillow(handle: BinaryIO) -> tuple[int, int] | None:
    """Any other format Pillow reads: opened lazily, which reads the header only."""
    from PIL import Image

    handle.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(handle) as image:
                return image.size
    except Image.DecompressionBombError:
        return (MAX_PIXELS + 1, 1)
    except Exception:  # noqa: BLE001 - not an image Pillow reads: the engine cannot decode it either
        return None


def raster_size(handle: BinaryIO) -> tuple[int, int] | None:
    """(width, height) of a raster image; None when it is none Pillow reads."""
    head = handle.read(HEAD)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return _png(head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp(head)
    if head[:2] == b"\xff\xd8":
        return _jpeg(handle)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(handle, head)
    return _pillow(handle)


def _too_many_pixels(size: tuple[int, int] | None, what: str) -> str | None:
    """`what` starts the message: "image 'x.png' is", "SVG image 'y.svg' holds an image of"."""
    if size is None or size[0] * size[1] <= MAX_PIXELS:
        return None
    width, height = size
    shown = f"{width:,} x {height:,} pixels" if height > 1 else "more pixels than Pillow opens"
    return (f"{what} {shown}: at most {MAX_PIXELS // 1_000_000} megapixels can be printed "
            "(scale it down; 300 pixels per inch is plenty on paper)")


def _looks_like_svg(head: bytes) -> bool:
    return b"<svg" in head[:HEAD].lower()


def image_file_problem(path: Path, name: str, roots: tuple[Path, ...]) -> str | None:
    """Why the image file at `path` (named `name` in the text) may not be printed; None when
    it may: too many bytes, too many pixels, or an SVG that nests too deep or holds such an
    image. An image that an SVG names is read only when it lies in one of the (resolved)
    `roots`. A file named again, unchanged, is not read again."""
    try:
        stat = path.stat()
    except OSError as exc:
        return f"image '{name}' cannot be read: {exc.strerror or exc}"
    return _file_problem_once(str(path), stat.st_size, stat.st_mtime_ns, name, tuple(roots))


@functools.lru_cache(maxsize=1024)
def _file_problem_once(path: str, size: int, mtime: int, name: str, roots: tuple[Path, ...]) -> str | None:
    return _file_problem(Path(path), name, roots, 0)


def _file_problem(path: Path, name: str, roots: tuple[Path, ...], depth: int) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return f"image '{name}' is {size:,} bytes: at most {MAX_BYTES // 2**20} MiB"
        with os.fdopen(open_regular(path, MAX_BYTES), "rb") as handle:  # no pipe, no link, bounded
            head = handle.read(HEAD)
            handle.seek(0)
            if not _looks_like_svg(_utf8(head)):
                return _too_many_pixels(raster_size(handle), f"image '{name}' is")
            data = handle.read(MAX_SVG_BYTES + 1)
    except OSError as exc:
        return f"image '{name}' cannot be read: {exc.strerror or exc}"
    if len(data) > MAX_SVG_BYTES:
        return f"SVG image '{name}' is {len(data):,} bytes or more: at most {MAX_SVG_BYTES // 2**20} MiB"
    return svg_problem(_utf8(data), path, name, roots, depth)


def _utf8(data: bytes) -> bytes:
    """An XML text in UTF-16 (with its byte order mark) as UTF-8, so that it can be scanned."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", "replace").encode("utf-8")
    return data


def _without_noise(data: bytes) -> bytes:
    """The SVG without comments, CDATA, processing instructions and DOCTYPE (in one pass)."""
    kept, pos = [], 0
    while match := _NOISE_RE.search(data, pos):
        kept.append(data[pos:match.start()])
        end = data.find(_NOISE_END[match.group(0)], match.end())
        if end < 0:
            return b"".join(kept)
        pos = end + len(_NOISE_END[match.group(0)])
    kept.append(data[pos:])
    return b"".join(kept)


def svg_problem(data: bytes, path: Path, name: str, roots: tuple[Path, ...], depth: int = 0) -> str | None:
    """How deep the SVG's elements nest, and the images it embeds (data: URLs) or names."""
    if b"<!ENTITY" in data:  # an entity could hold elements this scan does not see
        return f"SVG image '{name}' declares XML entities (<!ENTITY ...>), which are not read"
    data = _without_noise(data)
    level = 0
    for match in _SVG_TAG_RE.finditer(data):
        closing, tag, attrs, empty = match.groups()
        if closing:
            level = max(level - 1, 0)
            continue
        if not empty:
            level += 1
            if level > MAX_SVG_DEPTH:
                return f"SVG image '{name}' nests its elements more than {MAX_SVG_DEPTH} deep"
        if tag.split(b":")[-1].lower() not in (b"image", b"feimage", b"use"):
            continue
        for href in _HREF_RE.finditer(attrs):
            target = (href.group(1) if href.group(1) is not None else href.group(2)).decode("utf-8", "replace")
            problem = _embedded_problem(target.strip(), path, name, roots, depth)
            if problem:
                return problem
    return None


def _embedded_problem(target: str, path: Path, name: str, roots: tuple[Path, ...], depth: int) -> str | None:
    if not target or target.startswith("#"):
        return None
    if target[:5].lower() == "data:":
        header, _, payload = target.partition(",")
        try:
            raw = (base64.b64decode(payload[: MAX_BYTES * 4 // 3 + 4]) if header.lower().endswith(";base64")
                   else unquote_to_bytes(payload[:MAX_BYTES]))
        except ValueError:
            return None  # not decodable: not drawn either
        if _looks_like_svg(raw[:HEAD]):
            return (f"SVG image '{name}' embeds another SVG image, which is not read"
                    if depth else svg_problem(raw[:MAX_SVG_BYTES], path, name, roots, depth + 1))
        return _too_many_pixels(raster_size(io.BytesIO(raw)), f"SVG image '{name}' holds an image of")
    if depth:
        return f"SVG image '{name}' names an image that names images in turn, which is not read"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:  # the fetcher refuses these while rendering
        return None
    try:
        inner = Path(unquote(urlsplit(urljoin(path.resolve().as_uri(), parts.path)).path)).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not any(inner == root or root in inner.parents for root in roots):
        return (f"SVG image '{name}' names '{target[:80]}', outside the kit's content/ and templates/ "
                "folders: the build refuses to read it")
    if not inner.is_file():
        return None  # the engine draws nothing for it
    problem = _file_problem(inner, target[:80], roots, depth + 1)
    return f"SVG image '{name}' names another image: {problem}" if problem else None
