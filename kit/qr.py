"""QR codes for links printed on paper, as SVG made in Python (segno).

A printed guide or worksheet cannot be clicked; a QR code beside each pre-work
and resource link still gets a reader to the video. The SVG depends only on
the URL (fixed error level, mask chosen by segno's deterministic rules, no
timestamps or random ids), so the same URL always gives the same bytes and
the PDFs stay reproducible.

Choosing the mask is most of segno's work (about 8 ms a code, 1 ms with the mask
given), so a build hands the masks of its last run back through `remember()` and
keeps the ones it chose (`made()`).
"""
from __future__ import annotations

import base64
import functools
import io

import segno

ERROR_LEVEL = "m"  # 15 % of the code may be smudged or folded and it still scans
QUIET_ZONE = 2     # modules of white around the code; the page's margin adds the rest


_made: dict[str, str] = {}  # url -> SVG: made in this process
_masks: dict[str, int] = {}  # url -> the mask segno chose for it (here or in an earlier run)
_asked: set[str] = set()    # the URLs this process has printed


def remember(masks: dict) -> None:
    """Take the masks an earlier run chose (of the same segno version).

    Only the mask is taken, never a drawing: the code is always made here from the URL
    itself, so a crafted note in a shipped output folder cannot put another link on paper
    (at worst it picks another of the eight valid masks)."""
    for url, mask in masks.items():
        if isinstance(url, str) and type(mask) is int and 0 <= mask <= 7:
            _masks.setdefault(url, mask)


def made() -> dict[str, int]:
    """The masks of the codes this process has printed, to remember for the next run."""
    return {url: _masks[url] for url in sorted(_asked) if url in _masks}


def version() -> str:
    return f"segno {segno.__version__}/{ERROR_LEVEL}/{QUIET_ZONE}/masks"


# What the largest QR code (version 40) holds at ERROR_LEVEL "m", in bytes: segno writes a
# URL as ISO-8859-1 when it can, else as UTF-8 (its other modes only hold more).
MAX_BYTES = 2331


def too_long(url: str) -> str | None:
    """Why `url` cannot be printed as a QR code; None when it can. Checked while loading,
    so that segno never meets a link it cannot encode."""
    try:
        size = len(url.encode("iso-8859-1"))
    except UnicodeEncodeError:
        size = len(url.encode("utf-8", "surrogatepass"))
    if size <= MAX_BYTES:
        return None
    return (f"the link is {size:,} bytes long, too long for a QR code (at most {MAX_BYTES:,}): "
            "shorten it, e.g. leave out tracking parameters")


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
    code = segno.make(url, error=ERROR_LEVEL, micro=False, boost_error=False, mask=_masks.get(url))
    _masks[url] = code.mask
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", border=QUIET_ZONE, xmldecl=False, nl=False, omitsize=True,
              svgclass=None, lineclass=None, dark="#000", light="#fff")
    return buffer.getvalue().decode("ascii")


@functools.lru_cache(maxsize=1024)
def qr_data_url(url: str) -> str:
    """The QR code of `url` as a `data:image/svg+xml;base64,...` URL for an <img>."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url).encode("ascii")).decode("ascii")
