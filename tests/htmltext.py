"""The words a build's documents print, read from the HTML the build renders, not the PDFs.

For tests of what a page says where its layout is not the point. Leaks (facilitator
material in a worksheet), fonts, pages and links are checked on real PDFs instead.
"""
from __future__ import annotations

import html.parser
from pathlib import Path

from kit.build import BuildOptions, load_and_plan
from pdftext import norm

# What base.css prints in the page margins from an attribute (string-set: ... attr(...)).
MARGIN_ATTRIBUTES = ("data-course", "data-prefix", "data-running")


class Printed(html.parser.HTMLParser):
    """The words a document's HTML prints: the text of its body, and the attributes that
    go in its page margins; not the head (title, styles)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.in_head = 0

    def handle_starttag(self, tag, attrs):
        self.in_head += tag in ("head", "style", "script")
        self.parts += [value for name, value in attrs if name in MARGIN_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self.in_head -= tag in ("head", "style", "script")

    def handle_data(self, data):
        if not self.in_head:
            self.parts.append(data)


def printed(page: str) -> str:
    parser = Printed()
    parser.feed(page)
    parser.close()
    return norm(" ".join(parser.parts))


def printed_pdfs(root: Path, **options) -> dict[str, str]:
    """The words of each PDF a build of the kit would write (its path in the output folder,
    "slug/facilitator-guide.pdf", "slug/sessions/01-x-guide.pdf", ... -> its text), from the
    documents' HTML (kit.build.load_and_plan), joined as the PDFs join them: a session's
    guide is its pages and its answer key; the whole guide is its cover and contents, the
    introduction, then each session's guide; the worksheets are their cover, then each
    session's sheet."""
    _, planner, plans = load_and_plan(Path(root).resolve(), BuildOptions(out=Path(root) / "out", **options))
    texts = {}
    for course, _, guides, sheets, sheet_front, keys in plans:
        front = planner.guide_front(course, {s.id: {} for s in course.sessions}, {})
        for doc, key in zip(guides[1:], keys):
            texts[doc.key] = printed(doc.html) + " " + printed(key.html)
        for doc in guides[:1] + sheets:
            texts[doc.key] = printed(doc.html)
        texts[f"{course.slug}/facilitator-guide.pdf"] = " ".join(
            [printed(front.html)] + [texts[doc.key] for doc in guides])
        texts[f"{course.slug}/participant-worksheets.pdf"] = " ".join(
            [printed(sheet_front.html)] + [texts[doc.key] for doc in sheets])
    return texts
