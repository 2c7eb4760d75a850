"""Whole-course PDFs assembled from per-document PDFs (pypdf).

Each session is its own document, numbered session-page ("3-4"), so sessions
render independently; the assembled PDF gets page labels that match the
printed numbers and one bookmark tree built from each part's own bookmarks.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject


@dataclass(frozen=True)
class Part:
    pdf: bytes
    label_prefix: str  # "" for front matter (roman numerals), "3-" for session 3
    recto: bool = True  # start on a right-hand page


def assemble(parts: list[Part], title: str, lang: str) -> bytes:
    writer = PdfWriter()
    for part in parts:
        if part.recto and len(writer.pages) % 2 == 1:
            previous = writer.pages[-1]
            writer.add_blank_page(previous.mediabox.width, previous.mediabox.height)
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(part.pdf)), import_outline=True)
        end = len(writer.pages) - 1
        if part.label_prefix:
            writer.set_page_label(start, end, style="/D", prefix=part.label_prefix, start=1)
        else:
            writer.set_page_label(start, end, style="/r", start=1)
    writer.add_metadata({"/Title": title, "/Producer": "Facilitator Kit"})
    writer._root_object[NameObject("/Lang")] = TextStringObject(lang)
    digest = hashlib.md5(b"".join(hashlib.md5(p.pdf).digest() for p in parts)).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
