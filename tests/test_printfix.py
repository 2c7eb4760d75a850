"""Two fixes a stand-in facilitator reported on paper, read back from real PDFs at A4 and Letter.

1. A printed URL never ends a line with one of its own hyphens ("crash-" / "course" reads as
   a hyphenated word): it breaks after a '/' or before '-', '.', '?'... (kit.links.url_text),
   still fits its column, reads back as the URL, and its link is the URL exactly.
2. Nothing on the run sheet is printed below 7.5 pt: the table (headers, cues and their
   labels, code), and the timeline's labels, whose size is the SVG's font-size times the
   scale at which the image is printed.
3. Printed on both sides, nothing a participant wrote is on the back of the worksheet's
   feedback card: it is always on a right-hand page, under the last question if there is
   room there, else on the next right-hand page (a left-hand page before it is left blank,
   and says so).
"""
from __future__ import annotations

import math
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from kit.links import url_text
from kits import DENSE_KIT, DENSE_ONLY, LONG_KIT, RESOURCE_URL, SEGMENTS, TOKEN_URL, TWO_SESSION_KIT, URL
from pdftext import file_key, pages_text, raw_pages_text

MIN_PT = 7.5
DOCUMENTS = ("01-fixture-guide.pdf", "02-dense-guide.pdf", "02-dense-worksheet.pdf")


@pytest.fixture(scope="module", params=["a4", "letter"])
def built(request, shared_builds):
    """The path of each document, by name, at one paper size: the fixture session's guide
    (a plain run sheet, with timer and running-long cues) and the dense session's guide and
    worksheet, with long links."""
    if request.param == "a4":
        fixture = dense = shared_builds.get(DENSE_KIT, paper="a4")[1]
    else:
        fixture = shared_builds.get(LONG_KIT, paper="letter")[1]
        dense = shared_builds.get(DENSE_ONLY, paper="letter")[1]
    return {name: (fixture if name.startswith("01-") else dense) / "fixture/sessions" / name for name in DOCUMENTS}


# pdftotext's words of each page, read once per file (one run gives every page's).
_WORDS: dict[tuple, list[list[tuple[float, float, float, str]]]] = {}


# --- URLs --------------------------------------------------------------------------------

def test_url_text_breaks_only_where_no_hyphen_is_left_at_a_line_end():
    text = str(url_text("https://a-b.org/x--y/z?q=1&r_s=t-u"))
    zw, wj = "\u200b", "\u2060"
    assert text.replace(zw, "").replace(wj, "").replace("&amp;", "&") == "https://a-b.org/x--y/z?q=1&r_s=t-u"
    # every '-' is joined to what follows; never a break right after a '-'
    assert "-" + zw not in text and all(text[i + 1] == wj for i, c in enumerate(text) if c == "-")
    assert "https://" + zw + "a" in text and "//" in text       # after a '/', never inside '//'
    for c in ".?=_":
        assert zw + c in text
    assert zw + "&amp;" in text
    assert str(url_text('https://x.org/"<b>')).endswith("&#34;&lt;b&gt;")
    assert str(url_text(None)) == ""


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>')


def words(pdf, page: int) -> list[tuple[float, float, float, str]]:
    """(xMin, yMin, xMax, text) of every word on a page (1-based), as pdftotext sees them
    (one pdftotext run per file gives every page's)."""
    key = file_key(pdf)
    if key not in _WORDS:
        xml = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"],
                             capture_output=True, text=True, check=True).stdout
        _WORDS[key] = [[(float(a), float(b), float(c), unescape(t)) for a, b, c, t in WORD.findall(chunk)]
                       for chunk in xml.split("<page ")[1:]]
    return list(_WORDS[key][page - 1])


def printed_lines(pdf, url: str) -> list[tuple[list[str], float, float]]:
    """Each place a URL is printed: the lines it is printed on (its words at the same left
    edge, one under the other, from the one that starts it), the right edge of the widest,
    and the page's width."""
    found = []
    for number, page in enumerate(PdfReader(str(pdf)).pages, start=1):
        on_page = words(pdf, number)
        for left, top, _, text in on_page:
            if len(text) <= len("https://example.org/") or not url.startswith(text):
                continue
            below = sorted((w for w in on_page if abs(w[0] - left) < 0.5 and w[1] >= top), key=lambda w: w[1])
            lines, right = [], 0.0
            for w in below:
                if len("".join(lines)) >= len(url):
                    break
                lines.append(w[3])
                right = max(right, w[2])
            found.append((lines, right, float(page.mediabox.width)))
    return found


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
@pytest.mark.parametrize("url", [URL, TOKEN_URL, RESOURCE_URL])
def test_a_printed_url_never_ends_a_line_with_its_hyphen(built, url):
    documents = ["02-dense-guide.pdf"] + (["02-dense-worksheet.pdf"] if url != RESOURCE_URL else [])
    wrapped = False
    for document in documents:
        printed = printed_lines(built[document], url)
        assert printed, f"{url} is not printed in {document}"
        for lines, right, page_width in printed:
            assert "".join(lines) == url, (document, lines)
            assert not any(line.endswith("-") for line in lines[:-1]), (document, lines)
            # It fits: no line runs into the page's margin (17 mm at least on either side).
            assert right <= page_width - 17 / 25.4 * 72 + 0.5, (document, right, lines)
            wrapped = wrapped or len(lines) >= 2
    assert wrapped, f"{url} should wrap in the guide (else this test shows nothing)"


@pytest.mark.parametrize("document", ["02-dense-guide.pdf", "02-dense-worksheet.pdf"])
def test_link_is_the_url_and_no_invisible_character_is_extracted(built, document):
    reader = PdfReader(str(built[document]))
    uris, text = set(), "".join(raw_pages_text(built[document]))
    for page in reader.pages:
        for annot in page.get("/Annots", []):
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action:
                uris.add(str(action["/URI"]))
    expected = {URL, TOKEN_URL} | ({RESOURCE_URL} if "guide" in document else set())
    assert expected <= uris
    assert not {u for u in uris if u.startswith("https://example.org/")} - expected
    assert "\u200b" not in text and "\u2060" not in text
    if shutil.which("pdftotext"):
        layout = subprocess.run(["pdftotext", "-layout", str(built[document]), "-"],
                                capture_output=True, text=True, check=True).stdout
        assert "\u200b" not in layout and "\u2060" not in layout


# --- sizes on the run sheet ----------------------------------------------------------------

def _times(m, n):
    """The PDF matrix product m × n (each as a, b, c, d, e, f)."""
    return (m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
            m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
            m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5])


def text_sizes(reader: PdfReader, page) -> list[tuple[float, bool]]:
    """(printed size in pt, drawn inside a /Figure) for every text-showing operator on a page,
    following form XObjects (WeasyPrint draws an SVG's anchored text in them). The printed
    size is the font size times the scale of the text matrix and the current transformation
    (pypdf's own visitor loses the transformation inside forms)."""
    sizes: list[tuple[float, bool]] = []

    def run(stream, resources, ctm, tags):
        saved, tm, size, tags = [], (1, 0, 0, 1, 0, 0), 0.0, list(tags)
        xobjects = resources.get("/XObject", {}) if resources else {}
        for operands, op in ContentStream(stream, reader).operations:
            if op == b"q":
                saved.append((ctm, size))
            elif op == b"Q":
                ctm, size = saved.pop()
            elif op == b"cm":
                ctm = _times(tuple(float(x) for x in operands), ctm)
            elif op == b"BT":
                tm = (1, 0, 0, 1, 0, 0)
            elif op == b"Tm":
                tm = tuple(float(x) for x in operands)
            elif op == b"Tf":
                size = float(operands[1])
            elif op in (b"BDC", b"BMC"):
                tags.append(str(operands[0]))
            elif op == b"EMC" and tags:
                tags.pop()
            elif op in (b"Tj", b"TJ", b"'", b'"'):
                m = _times(tm, ctm)
                sizes.append((size * math.sqrt(abs(m[0] * m[3] - m[1] * m[2])), "/Figure" in tags))
            elif op == b"Do":
                xobject = xobjects[operands[0]].get_object()
                if xobject.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", (1, 0, 0, 1, 0, 0)))
                    run(xobject, xobject.get("/Resources", resources), _times(matrix, ctm), tags)

    run(page.get_contents(), page["/Resources"], (1, 0, 0, 1, 0, 0), [])
    return sizes


@pytest.mark.parametrize("document, segments", [("01-fixture-guide.pdf", 3), ("02-dense-guide.pdf", SEGMENTS)])
def test_nothing_on_the_run_sheet_is_smaller_than_7_5_pt(built, document, segments):
    reader = PdfReader(str(built[document]))
    texts = [text.lower() for text in raw_pages_text(built[document])]
    assert sum("keep it on the table" in text for text in texts) == 1
    # The run sheet's page, and any its table runs on to (the table's header is repeated there).
    sheets = [page for page, text in zip(reader.pages, texts) if "keep it on the table" in text or "say · cues" in text]
    sizes = [size for page in sheets for size in text_sizes(reader, page)]
    labels = [s for s, in_figure in sizes if in_figure]
    text = [s for s, in_figure in sizes if not in_figure]
    # The timeline's labels: a number per segment, a time per boundary, a legend entry per kind.
    assert len(labels) >= 2 * segments + 2, len(labels)
    assert min(labels) >= MIN_PT - 1e-3, f"timeline labels printed at {min(labels):.2f} pt"
    assert min(text) >= MIN_PT - 1e-3, f"run sheet text printed at {sorted(set(round(s, 2) for s in text))[:5]} pt"


# --- the feedback card, a sheet of its own -------------------------------------------------

CARD = "Tear or cut along the dashed line"
LEFT_BLANK = "This side is left blank: the feedback card is a sheet of its own."


def card_placement(path) -> tuple[int, bool]:
    """(pages, whether the page before the card is left blank), checking that the card is
    on the last page and only there, and that a blank page holds only its note."""
    pages = pages_text(path)
    assert [i for i, text in enumerate(pages) if CARD in text] == [len(pages) - 1], path.name
    blank = [i for i, text in enumerate(pages) if LEFT_BLANK in text]
    assert blank in ([], [len(pages) - 2]), (path.name, blank)
    for i in blank:  # nothing but its note and its page number
        assert re.fullmatch(rf"{re.escape(LEFT_BLANK)} W\d+-{i + 1}", pages[i]), pages[i]
    return len(pages), bool(blank)


def test_the_feedback_card_is_a_sheet_of_its_own_when_printed_on_both_sides(built, shared_builds):
    """On a right-hand page: after the last question where that page is a right-hand one
    with room for it, else on the next right-hand page (laid out again by kit.pdf)."""
    sessions = built["02-dense-worksheet.pdf"].parent
    placements = {path.name: card_placement(path) for path in sessions.glob("*-worksheet.pdf")}
    assert placements and all(pages % 2 == 1 for pages, _ in placements.values()), placements  # the card's
    # The dense session's questions take one page, and the card fits under them.
    assert placements["02-dense-worksheet.pdf"] == (1, False)
    # The tiny two-session kit's second worksheet ends its questions on a left-hand page:
    # the card goes to the next right-hand one, and the page between says why it is blank.
    second = shared_builds.get(TWO_SESSION_KIT)[1] / "fixture/sessions/02-second-worksheet.pdf"
    assert card_placement(second) == (3, True)
    # In the whole worksheets too, each card is on a right-hand (odd-numbered) page.
    whole = pages_text(sessions.parent / "participant-worksheets.pdf")
    cards = [n for n, text in enumerate(whole, start=1) if CARD in text]
    assert cards and all(n % 2 == 1 for n in cards), cards
