"""Whole-course PDFs assembled from per-document PDFs (pikepdf, on qpdf).

Each session is its own document, numbered session-page ("3-4"), so sessions
render independently; the assembled PDF gets page labels that match the
printed numbers, one bookmark tree built from each part's own bookmarks, and
one structure tree (the tags that make it accessible) built from each part's.

qpdf copies a part's pages, annotations and named destinations in C++ and maps
every reference a copied object makes to the copy, so the parts' structure
elements (which point at pages and link annotations) can be copied after their
pages and still point at the right ones.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name, String


@dataclass(frozen=True)
class Part:
    pdf: bytes
    label_prefix: str  # "" for front matter (roman numerals), "3-" for session 3
    recto: bool = True  # start on a right-hand page


def _number_tree(node) -> list:
    """The flat [key, value, key, value, ...] list of a PDF number tree."""
    nums = list(node.get("/Nums", []))
    for kid in node.get("/Kids", []):
        nums += _number_tree(kid)
    return nums


def _copy(pdf: pikepdf.Pdf, obj):
    """Copy a value from another PDF: indirect objects through qpdf's map, direct ones member by member."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        return pdf.copy_foreign(obj)
    if isinstance(obj, Array):
        return Array([_copy(pdf, item) for item in obj])
    if isinstance(obj, Dictionary):
        return Dictionary({key: _copy(pdf, value) for key, value in obj.items()})
    return obj


class StructureMerger:
    """Joins the parts' structure trees under one /Document element."""

    def __init__(self, pdf: pikepdf.Pdf):
        self.pdf = pdf
        self.root = pdf.make_indirect(Dictionary(Type=Name.StructTreeRoot))
        self.document = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, P=self.root))
        self.kids = Array()
        self.nums = Array()
        self.role_map = Dictionary()
        self.next_key = 0

    def add(self, src: pikepdf.Pdf, first_page: int) -> None:
        tree = src.Root.get("/StructTreeRoot")
        if tree is None:
            return
        offset = self.next_key
        for page in self.pdf.pages[first_page:first_page + len(src.pages)]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + offset
            for annot in page.obj.get("/Annots", []):
                if "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + offset
        kids = tree.get("/K", Array())
        for kid in (kids if isinstance(kids, Array) else [kids]):
            element = _copy(self.pdf, kid)
            element.P = self.document
            self.kids.append(element)
        nums = _number_tree(tree.ParentTree) if "/ParentTree" in tree else []
        top = -1
        for key, value in zip(nums[::2], nums[1::2]):
            self.nums.append(int(key) + offset)
            self.nums.append(_copy(self.pdf, value))
            top = max(top, int(key))
        self.next_key = offset + top + 1
        for name, role in tree.get("/RoleMap", Dictionary()).items():
            if name not in self.role_map:
                self.role_map[name] = role

    def finish(self) -> None:
        self.document.K = self.kids
        self.root.K = Array([self.document])
        self.root.ParentTree = self.pdf.make_indirect(Dictionary(Nums=self.nums))
        self.root.ParentTreeNextKey = self.next_key
        if len(self.role_map):
            self.root.RoleMap = self.role_map
        self.pdf.Root.StructTreeRoot = self.root
        self.pdf.Root.MarkInfo = Dictionary(Marked=True)


def assemble(parts: list[Part], title: str, lang: str) -> bytes:
    pdf = pikepdf.new()
    structure = StructureMerger(pdf)
    labels = Array()
    first_metadata = None
    sources = []  # kept open until the document is saved: copies refer to them
    for part in parts:
        if part.recto and len(pdf.pages) % 2 == 1:
            box = pdf.pages[-1].mediabox
            pdf.add_blank_page(page_size=(float(box[2]) - float(box[0]), float(box[3]) - float(box[1])))
        start = len(pdf.pages)
        src = pikepdf.open(io.BytesIO(part.pdf))
        sources.append(src)
        pdf.add_pages_from(src)  # pages, annotations, named destinations and bookmarks
        structure.add(src, start)
        if part.label_prefix:
            labels.extend([start, Dictionary(S=Name.D, P=String(part.label_prefix), St=1)])
        else:
            labels.extend([start, Dictionary(S=Name.r, St=1)])
        if first_metadata is None and "/Metadata" in src.Root:
            first_metadata = pdf.copy_foreign(src.Root.Metadata)
    structure.finish()
    root = pdf.Root
    root.PageLabels = pdf.make_indirect(Dictionary(Nums=labels))
    if first_metadata is not None:  # the front matter's XMP: title, PDF/UA identification
        root.Metadata = first_metadata
    root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    root.Lang = String(lang)
    pdf.docinfo[Name.Title] = String(title)
    pdf.docinfo[Name.Producer] = String("Facilitator Kit")
    pdf.trailer.ID = Array([pikepdf.String(hashlib.md5(b"".join(hashlib.md5(p.pdf).digest() for p in parts)).digest())] * 2)
    out = io.BytesIO()
    pdf.save(out, static_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate,
             fix_metadata_version=False)
    for src in sources:
        src.close()
    return out.getvalue()
