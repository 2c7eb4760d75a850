"""What, besides a document's HTML and CSS, decides the bytes of its PDF.

The render cache must forget a PDF when any of these change, or a rebuild after
`apt-get install fonts-inter` keeps pages set in the fallback font:

- the fonts the renderer can resolve: every font file fontconfig knows (its path, size
  and modification time) and fontconfig's own configuration files, read from a fresh
  fontconfig configuration so that FONTCONFIG_FILE and a font installed a moment ago
  count;
- the versions of the libraries that lay out, shape, subset and write: Pango,
  HarfBuzz (and whether its subsetter is there), WeasyPrint, pydyf, fontTools, pikepdf
  and the qpdf it carries;
- the kit's own code, which finishes and prepares each PDF.

Nothing here imports WeasyPrint or pikepdf: the libraries are asked through ctypes
and package metadata, so `kit build` stays fast to start. Only names, sizes and
times of font files are looked at, never their bytes.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import os
from importlib import metadata

PACKAGES = ("weasyprint", "pydyf", "fonttools", "pikepdf", "segno")


def _library(name: str, soname: str):
    try:
        return ctypes.CDLL(ctypes.util.find_library(name) or soname)
    except OSError:
        return None


def _version_string(lib, function: str) -> str:
    if lib is None:
        return "absent"
    try:
        func = getattr(lib, function)
    except AttributeError:
        return "unknown"
    func.restype = ctypes.c_char_p
    return (func() or b"").decode("ascii", "replace")


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[tuple[str, str], ...]:
    return tuple(sorted(library_versions().items()))


def library_versions() -> dict[str, str]:
    versions = {
        "pango": _version_string(_library("pango-1.0", "libpango-1.0.so.0"), "pango_version_string"),
        "harfbuzz": _version_string(_library("harfbuzz", "libharfbuzz.so.0"), "hb_version_string"),
        "harfbuzz-subset": "present" if _library("harfbuzz-subset", "libharfbuzz-subset.so.0") else "absent",
        "fontconfig": str(_fontconfig_version()),
    }
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    versions["qpdf"] = _qpdf_version()
    return versions


def _qpdf_version() -> str:
    """The version of the qpdf pikepdf uses: the copy a pikepdf wheel carries in
    `pikepdf.libs/`, else the system's libqpdf."""
    import glob
    import importlib.util

    lib = None
    spec = importlib.util.find_spec("pikepdf")
    if spec is not None and spec.origin:
        site = os.path.dirname(os.path.dirname(spec.origin))
        for candidate in sorted(glob.glob(os.path.join(site, "pikepdf.libs", "libqpdf*"))):
            try:
                lib = ctypes.CDLL(candidate)
                break
            except OSError:
                continue
    return _version_string(lib or _library("qpdf", "libqpdf.so.30"), "qpdf_get_qpdf_version")


def _fontconfig_version() -> int:
    lib = _library("fontconfig", "libfontconfig.so.1")
    if lib is None:
        return 0
    lib.FcGetVersion.restype = ctypes.c_int
    return lib.FcGetVersion()


class _FcFontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


def font_files() -> list[str]:
    """Every font file and configuration file a fresh fontconfig configuration knows."""
    lib = _library("fontconfig", "libfontconfig.so.1")
    if lib is None:
        return []
    lib.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    lib.FcConfigGetFonts.restype = ctypes.POINTER(_FcFontSet)
    lib.FcConfigGetFonts.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.FcPatternGetString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_char_p)]
    lib.FcConfigGetConfigFiles.restype = ctypes.c_void_p
    lib.FcConfigGetConfigFiles.argtypes = [ctypes.c_void_p]
    lib.FcStrListNext.restype = ctypes.c_char_p
    lib.FcStrListNext.argtypes = [ctypes.c_void_p]
    lib.FcStrListDone.argtypes = [ctypes.c_void_p]
    lib.FcConfigDestroy.argtypes = [ctypes.c_void_p]
    config = lib.FcInitLoadConfigAndFonts()
    if not config:
        return []
    names = []
    try:
        fonts = lib.FcConfigGetFonts(config, 0)  # FcSetSystem
        if fonts:
            value = ctypes.c_char_p()
            for i in range(fonts.contents.nfont):
                found = lib.FcPatternGetString(fonts.contents.fonts[i], b"file", 0, ctypes.byref(value))
                if found == 0 and value.value is not None:
                    names.append(os.fsdecode(value.value))
        files = lib.FcConfigGetConfigFiles(config)
        if files:
            while (name := lib.FcStrListNext(files)) is not None:
                names.append(os.fsdecode(bytes(name)))
            lib.FcStrListDone(files)
    finally:
        lib.FcConfigDestroy(config)
    return sorted(set(names))


def fonts_digest() -> str:
    digest = hashlib.sha256()
    for name in font_files():
        try:
            info = os.stat(name)
            digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "replace"))
        except OSError:
            digest.update(f"{name}\0gone\n".encode("utf-8", "replace"))
    return digest.hexdigest()


def code_digest() -> str:
    """The kit's own code (this package's modules): a change to how a PDF is finished or
    prepared must not be hidden by a cache filled by the code before it."""
    digest = hashlib.sha256()
    package = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def renderer_fingerprint() -> str:
    """One string that changes when any of the above, or the kit's code, does. Asked afresh
    by every build, so that a long-running `kit preview` sees a font installed meanwhile.
    The libraries' versions are read once per process: the libraries a process has
    loaded are the ones it renders with until it ends."""
    parts = list(_library_versions())
    return hashlib.sha256(repr((parts, fonts_digest(), code_digest())).encode()).hexdigest()[:24]
