"""QR codes for links printed on paper, as SVG made in Python (segno).

A printed guide or worksheet cannot be clicked; a QR code beside each pre-work
and resource link still gets a reader to the video. The SVG depends only on
the URL (fixed error level, mask chosen by segno's deterministic rules, no
timestamps or random ids), so the same URL always gives the same bytes and
the PDFs stay reproducible.
"""
from __future__ import annotations

import base64
import functools
import io

import segno

ERROR_LEVEL = "m"  # 15 % of the code may be smudged or folded and it still scans
QUIET_ZONE = 2     # modules of white around the code; the page's margin adds the rest


@functools.lru_cache(maxsize=1024)
def qr_svg(url: str) -> str:
    """The QR code of `url` as a standalone SVG document (a string, no XML declaration).

    The viewBox counts modules; the size on paper is set where the SVG is placed.
    """
    code = segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", border=QUIET_ZONE, xmldecl=False, nl=False, omitsize=True,
              svgclass=None, lineclass=None, dark="#000", light="#fff")
    return buffer.getvalue().decode("ascii")


@functools.lru_cache(maxsize=1024)
def qr_data_url(url: str) -> str:
    """The QR code of `url` as a `data:image/svg+xml;base64,...` URL for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("ascii")).decode("ascii")
