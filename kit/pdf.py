"""The PDF engine: WeasyPrint behind a fetcher that reads only the kit.

Imported only when a PDF is made, so `kit --help`, `kit check` and `kit new`
never load WeasyPrint.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from kit.safefs import Unsafe, read_bounded

from weasyprint import CSS, HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


class RefusedResource(FatalURLFetchingError):
    """A resource outside the kit, of a refused scheme, or missing. Stops rendering."""


class KitFetcher(URLFetcher):
    """Serves `data:` URLs and regular files that resolve inside the allowed folders.

    WeasyPrint fetches every resource through it: images, stylesheets, fonts and
    attachments. Anything else is refused with `RefusedResource`, which stops the
    rendering: other local files, devices, http(s), ftp and every other scheme, file
    URLs that name a host, relative file URLs, and links that lead out of the
    allowed folders. No redirects are followed; nothing goes to the network.
    """

    SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")
    MAX_BYTES = 64 * 1024 * 1024

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, fail_on_errors=True)
        self.roots = [Path(r).resolve() for r in roots]

    def _system(self, path: Path) -> bool:
        return any(path == Path(s) or Path(s) in path.parents for s in self.SYSTEM_FOLDERS)

    def _allowed(self, path: Path) -> bool:
        """`path` is resolved: inside a root and not a device or kernel file."""
        return not self._system(path) and any(path == root or root in path.parents for root in self.roots)

    def fetch(self, url, headers=None):
        try:
            return self._fetch(str(url), headers)
        except RefusedResource:
            raise
        except Exception as exc:  # noqa: BLE001 - a malformed URL, an unreadable file: refused, never a traceback
            raise RefusedResource(f"refused resource {_shorten(url)}: {exc}") from None

    def _fetch(self, url: str, headers):
        scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedResource(f"refused resource (only files inside the kit are read): {_shorten(url)}")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedResource(f"refused resource on another host: {_shorten(url)}")
        raw = unquote(parts.path)
        if not raw.startswith("/") or "\x00" in raw:
            raise RefusedResource(f"refused resource: {_shorten(url)}")
        path = Path(raw)
        if self._system(path):  # refused before any link is followed
            raise RefusedResource(f"refused resource outside the kit: {path}")
        try:
            path = path.resolve()
        except (OSError, RuntimeError):
            raise RefusedResource(f"refused resource: {path}") from None
        if not self._allowed(path):  # checked before the file is even looked at
            raise RefusedResource(f"refused resource outside the kit: {path}")
        if not path.exists():
            raise RefusedResource(f"missing resource: {path}")
        try:  # a regular file, its size checked before a byte is read
            body = read_bounded(path, self.MAX_BYTES)
        except Unsafe as exc:
            raise RefusedResource(f"refused resource: {exc} (the limit is {self.MAX_BYTES // 2**20} MiB; "
                                  "images, fonts and stylesheets must be regular files)") from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


def _shorten(url) -> str:
    url = str(url)
    return url if len(url) <= 120 else url[:117] + "..."


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    anchors: dict  # anchor name -> 0-based page index


# The time written into fonts that fontTools subsets (the TrueType 'head' table's
# modification date). WeasyPrint subsets with HarfBuzz when libharfbuzz-subset is
# installed, which keeps the font's own date; without it, fontTools stamps the current
# time unless SOURCE_DATE_EPOCH says otherwise (the reproducible-builds convention),
# and two builds a second apart would differ.
FONT_EPOCH = "0"


@contextlib.contextmanager
def _fixed_font_dates():
    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = FONT_EPOCH
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = saved


# Parsed stylesheets, kept for the life of the process: every document of a build
# uses the same print CSS, and parsing it is about a fifth of rendering a short
# document. A parsed stylesheet is not changed by rendering; the key holds
# everything the parse reads (the text, the base for relative URLs, the folders
# an @import may read from).
_STYLESHEETS: dict[tuple, CSS] = {}
_STYLESHEETS_KEPT = 8


def _stylesheet(css: str, base_url: str, fetcher: KitFetcher) -> CSS:
    key = (hashlib.sha256(css.encode()).hexdigest(), base_url, tuple(str(r) for r in fetcher.roots))
    parsed = _STYLESHEETS.get(key)
    if parsed is None:
        parsed = CSS(string=css, base_url=base_url, url_fetcher=fetcher)
        if len(_STYLESHEETS) >= _STYLESHEETS_KEPT:
            _STYLESHEETS.pop(next(iter(_STYLESHEETS)))
        _STYLESHEETS[key] = parsed
    return parsed


def _starts_on_left(document, element_id: str) -> bool:
    """Whether the element starts a left-hand (even-numbered) page of the laid-out document."""
    return any(element_id in page.anchors and index % 2 == 1 for index, page in enumerate(document.pages))


def render_pdf(html: str, css: str, base_url: str, roots: list[Path], identifier: str,
               tagged: bool = True, recto: str = "", only: str = "") -> Rendered:
    """`recto`: the id of an element that must start a right-hand page. It flows where it
    falls; only if that is a left-hand page is the document laid out again with a break
    before it to the next right-hand page (CSS cannot say "here if this page is a
    right-hand one, else on the next").
    `only`: keep only the pages that hold an element whose id starts with it (all of
    them if none does); what each page prints, its number too, is as laid out."""
    if recto and not re.fullmatch(r"[A-Za-z0-9_-]+", recto):
        raise ValueError(f"not an element id: {recto!r}")
    fetcher = KitFetcher(roots)
    stylesheets = [_stylesheet(css, base_url, fetcher)]
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(stylesheets=stylesheets)
    if recto and _starts_on_left(document, recto):
        stylesheets.append(CSS(string=f'[id="{recto}"] {{ break-before: right }}'))
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(stylesheets=stylesheets)
    if only:
        kept = [page for page in document.pages if any(name.startswith(only) for name in page.anchors)]
        if kept and len(kept) < len(document.pages):
            document = document.copy(kept)
    anchors: dict[str, int] = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    # PDF/UA-1: tagged, with the document title and language, for screen readers.
    with _fixed_font_dates():
        pdf = document.write_pdf(
            pdf_identifier=hashlib.md5(identifier.encode()).hexdigest().encode(),
            pdf_variant="pdf/ua-1" if tagged else None, pdf_tags=tagged)
    return Rendered(pdf, len(document.pages), anchors)
