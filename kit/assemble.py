"""Whole-course PDFs assembled from per-document PDFs (pypdf).

Each session is its own document, numbered session-page ("3-4"), so sessions
render independently; the assembled PDF gets page labels that match the
printed numbers, one bookmark tree built from each part's own bookmarks, and
one structure tree (the tags that make it accessible) built from each part's.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (ArrayObject, BooleanObject, ByteStringObject, DictionaryObject, IndirectObject,
                           NameObject, NumberObject, TextStringObject)


@dataclass(frozen=True)
class Part:
    pdf: bytes
    label_prefix: str  # "" for front matter (roman numerals), "3-" for session 3
    recto: bool = True  # start on a right-hand page


def _number_tree(node) -> list:
    """The flat [key, value, key, value, ...] list of a PDF number tree."""
    node = node.get_object()
    nums = list(node.get("/Nums", []))
    for kid in node.get("/Kids", []):
        nums += _number_tree(kid)
    return nums


class StructureMerger:
    """Joins the parts' structure trees under one /Document element."""

    def __init__(self, writer: PdfWriter):
        self.writer = writer
        self.root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
        self.root_ref = writer._add_object(self.root)
        self.document = DictionaryObject({NameObject("/Type"): NameObject("/StructElem"),
                                          NameObject("/S"): NameObject("/Document"),
                                          NameObject("/P"): self.root_ref})
        self.document_ref = writer._add_object(self.document)
        self.kids = ArrayObject()
        self.nums = ArrayObject()
        self.role_map = DictionaryObject()
        self.next_key = 0

    def add(self, reader: PdfReader, first_page: int) -> None:
        tree = reader.trailer["/Root"].get("/StructTreeRoot")
        if tree is None:
            return
        tree = tree.get_object()
        offset = self.next_key
        pages = self.writer.pages[first_page:first_page + len(reader.pages)]
        for page, source in zip(pages, reader.pages):
            # pypdf drops /StructParents when it copies a page; restore it, renumbered.
            if "/StructParents" in source:
                page[NameObject("/StructParents")] = NumberObject(source["/StructParents"] + offset)
            for annot in page.get("/Annots", []):
                annot = annot.get_object()
                if "/StructParent" in annot:
                    annot[NameObject("/StructParent")] = NumberObject(annot["/StructParent"] + offset)
        kids = tree.get("/K", [])
        kids = kids if isinstance(kids, list) else [kids]
        for kid in kids:
            clone = kid.clone(self.writer) if isinstance(kid, IndirectObject) else kid.clone(self.writer)
            element = clone.get_object() if isinstance(clone, IndirectObject) else clone
            element[NameObject("/P")] = self.document_ref
            self.kids.append(clone.indirect_reference if hasattr(clone, "indirect_reference")
                             and clone.indirect_reference else clone)
        nums = _number_tree(tree["/ParentTree"]) if "/ParentTree" in tree else []
        top = -1
        for key, value in zip(nums[::2], nums[1::2]):
            self.nums.append(NumberObject(key + offset))
            self.nums.append(value.clone(self.writer))
            top = max(top, key)
        self.next_key = offset + top + 1
        for name, role in tree.get("/RoleMap", {}).items():
            self.role_map.setdefault(NameObject(name), role)

    def finish(self) -> None:
        self.document[NameObject("/K")] = self.kids
        self.root[NameObject("/K")] = ArrayObject([self.document_ref])
        self.root[NameObject("/ParentTree")] = self.writer._add_object(
            DictionaryObject({NameObject("/Nums"): self.nums}))
        self.root[NameObject("/ParentTreeNextKey")] = NumberObject(self.next_key)
        if self.role_map:
            self.root[NameObject("/RoleMap")] = self.role_map
        catalog = self.writer._root_object
        catalog[NameObject("/StructTreeRoot")] = self.root_ref
        catalog[NameObject("/MarkInfo")] = DictionaryObject({NameObject("/Marked"): BooleanObject(True)})


def assemble(parts: list[Part], title: str, lang: str) -> bytes:
    writer = PdfWriter()
    readers = []  # kept alive: pypdf maps cloned objects by the reader's identity
    structure = StructureMerger(writer)
    for part in parts:
        if part.recto and len(writer.pages) % 2 == 1:
            previous = writer.pages[-1]
            writer.add_blank_page(previous.mediabox.width, previous.mediabox.height)
        start = len(writer.pages)
        reader = PdfReader(io.BytesIO(part.pdf))
        readers.append(reader)
        writer.append(reader, import_outline=True)
        structure.add(reader, start)
        end = len(writer.pages) - 1
        if part.label_prefix:
            writer.set_page_label(start, end, style="/D", prefix=part.label_prefix, start=1)
        else:
            writer.set_page_label(start, end, style="/r", start=1)
    structure.finish()
    catalog = writer._root_object
    first = readers[0].trailer["/Root"] if readers else {}
    if "/Metadata" in first:  # the front matter's XMP (title, PDF/UA identification)
        catalog[NameObject("/Metadata")] = first["/Metadata"].clone(writer).indirect_reference
    catalog[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)})
    writer.add_metadata({"/Title": title, "/Producer": "Facilitator Kit"})
    catalog[NameObject("/Lang")] = TextStringObject(lang)
    digest = hashlib.md5(b"".join(hashlib.md5(p.pdf).digest() for p in parts)).digest()
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
