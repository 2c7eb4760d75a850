"""QR codes for links printed on paper, as SVG made in Python (segno).

A printed guide or worksheet cannot be clicked; a QR code beside each pre-work
and resource link still gets a reader to the video. The SVG depends only on
the URL (fixed error level, mask chosen by segno's deterministic rules, no
timestamps or random ids), so the same URL always gives the same bytes and
the PDFs stay reproducible.

Choosing the mask is most of segno's work (about 15 ms a code), so a build
hands the codes of its last run back through `remember()` and keeps the ones
it made (`made()`): a rebuild makes only the codes of new links.
"""
from __future__ import annotations

import base64
import functools
import io

import segno

ERROR_LEVEL = "m"  # 15 % of the code may be smudged or folded and it still scans
QUIET_ZONE = 2     # modules of white around the code; the page's margin adds the rest


_made: dict[str, str] = {}  # url -> SVG: made or remembered in this process
_asked: set[str] = set()    # the URLs this process has printed


def remember(svgs: dict) -> None:
    """Take codes made by an earlier run (of the same segno version)."""
    for url, svg in svgs.items():
        if isinstance(url, str) and isinstance(svg, str) and svg.startswith("<svg"):
            _made.setdefault(url, svg)


def made() -> dict[str, str]:
    """The codes this process has printed, to remember for the next run."""
    return {url: _made[url] for url in sorted(_asked)}


def version() -> str:
    return f"segno {segno.__version__}/{ERROR_LEVEL}/{QUIET_ZONE}"


def qr_svg(url: str) -> str:
    """The QR code of `url` as a standalone SVG document (a string, no XML declaration).

    The viewBox counts modules; the size on paper is set where the SVG is placed.
    """
    _asked.add(url)
    svg = _made.get(url)
    if svg is None:
        svg = _made[url] = _make_svg(url)
    return svg


def _make_svg(url: str) -> str:
    code = segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", border=QUIET_ZONE, xmldecl=False, nl=False, omitsize=True,
              svgclass=None, lineclass=None, dark="#000", light="#fff")
    return buffer.getvalue().decode("ascii")


@functools.lru_cache(maxsize=1024)
def qr_data_url(url: str) -> str:
    """The QR code of `url` as a `data:image/svg+xml;base64,...` URL for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("ascii")).decode("ascii")
