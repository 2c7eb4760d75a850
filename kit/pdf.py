"""The PDF engine: WeasyPrint behind a fetcher that reads only the kit.

Imported only when a PDF is made, so `kit --help`, `kit check` and `kit new`
never load WeasyPrint.
"""
from __future__ import annotations

import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

logging.getLogger("weasyprint").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.ERROR)


class RefusedResource(FatalURLFetchingError):
    """A resource outside the kit, of a refused scheme, or missing. Stops rendering."""


class KitFetcher(URLFetcher):
    """Serves `data:` URLs and files that resolve inside the allowed folders; refuses the rest."""

    def __init__(self, roots: list[Path]):
        super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False, fail_on_errors=True)
        self.roots = [Path(r).resolve() for r in roots]

    def _allowed(self, path: Path) -> bool:
        for root in self.roots:
            try:
                path.relative_to(root)
                return True
            except ValueError:
                continue
        return False

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file":
            raise RefusedResource(f"refused resource (only files inside the kit are read): {url}")
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise RefusedResource(f"refused resource on another host: {url}")
        try:
            path = Path(unquote(parts.path)).resolve()
        except (OSError, RuntimeError):
            raise RefusedResource(f"refused resource: {url}") from None
        if not self._allowed(path):
            raise RefusedResource(f"refused resource outside the kit: {path}")
        if not path.is_file():
            raise RefusedResource(f"missing resource: {path}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": content_type})


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    anchors: dict  # anchor name -> 0-based page index


def render_pdf(html: str, css: str, base_url: str, roots: list[Path], identifier: str,
               tagged: bool = True) -> Rendered:
    fetcher = KitFetcher(roots)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=css, base_url=base_url, url_fetcher=fetcher)])
    anchors = {}
    for index, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    pdf = document.write_pdf(
        pdf_identifier=hashlib.md5(identifier.encode()).hexdigest().encode(),
        pdf_tags=tagged, uncompressed_pdf=False)
    return Rendered(pdf, len(document.pages), anchors)
