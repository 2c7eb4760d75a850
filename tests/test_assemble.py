"""Whole-course PDFs keep what each part had: tags, bookmarks, page labels, metadata."""
import subprocess

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from kits import TWO_SESSION_KIT


@pytest.fixture(scope="module")
def guide(shared_builds):
    # Two sessions (the tiny one, and one with a prompt, a question, a pair activity, links),
    # built once per run: test_engine's sequential build.
    _, out, _ = shared_builds.get(TWO_SESSION_KIT)
    return out / "fixture/facilitator-guide.pdf"


def structure(reader):
    """(elements, page refs, OBJR targets) of the structure tree."""
    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    elements, pages, objects, seen = 0, [], [], set()
    stack = [tree.raw_get("/K")]
    while stack:
        item = stack.pop()
        obj = item.get_object() if isinstance(item, IndirectObject) else item
        if isinstance(obj, list):
            stack.extend(obj)
            continue
        if not isinstance(obj, dict) or id(obj) in seen:
            continue
        seen.add(id(obj))
        elements += 1
        if "/Pg" in obj:
            pages.append(obj.raw_get("/Pg").idnum)
        if obj.get("/Type") == "/OBJR":
            objects.append(obj.raw_get("/Obj").idnum)
        if "/K" in obj:
            stack.append(obj.raw_get("/K"))
    return elements, pages, objects


def test_assembled_guide_is_tagged_and_consistent(guide):
    reader = PdfReader(str(guide))
    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] is True or catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert catalog["/Lang"] == "en"
    elements, pages, objects = structure(reader)
    page_ids = {p.indirect_reference.idnum for p in reader.pages}
    assert elements > 50
    assert pages and set(pages) <= page_ids
    annots = {a.idnum for p in reader.pages for a in p.get("/Annots", []) if isinstance(a, IndirectObject)}
    assert set(objects) <= annots
    tree = catalog["/StructTreeRoot"]
    keys = set(tree["/ParentTree"]["/Nums"][::2])
    with_content = [p for p in reader.pages if "/StructParents" in p]
    assert len(with_content) >= len(reader.pages) - 2  # the blank recto pages carry no content
    assert all(p["/StructParents"] in keys for p in with_content)
    assert len({p["/StructParents"] for p in with_content}) == len(with_content)
    assert tree["/ParentTreeNextKey"] > max(keys)


def test_assembled_guide_has_title_and_labels(guide):
    reader = PdfReader(str(guide))
    assert reader.metadata.title == "Fixture Course: facilitator guide"
    labels = list(reader.page_labels)
    assert labels[0] == "i"
    assert "1-1" in labels and "2-1" in labels
    # each session starts on a right-hand (odd) page of the printed book
    assert labels.index("1-1") % 2 == 0 and labels.index("2-1") % 2 == 0


# Two builds give the same bytes with HarfBuzz subsetting: test_engine's
# test_parallel_and_sequential_builds_give_identical_pdfs (a parallel and a sequential
# build, each with its own cache, byte for byte).


def test_two_renderings_give_the_same_bytes_with_fonttools_subsetting(monkeypatch):
    """As on a machine without libharfbuzz-subset0, where WeasyPrint falls back to fontTools,
    which stamps each subset font with the current time: the two renderings here happen a
    day apart by fontTools' clock, and must still agree byte for byte."""
    from fontTools.misc import timeTools
    from weasyprint.pdf import fonts

    from kit.pdf import render_pdf

    used, clock = [], iter([1_700_000_000.0, 1_700_086_400.0] * 50)
    real = fonts.Font._fonttools_subset
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.setattr(fonts.Font, "_fonttools_subset", lambda self, *a: used.append(1) or real(self, *a))
    monkeypatch.setattr(timeTools, "time", type("Clock", (), {"time": staticmethod(lambda: next(clock))}))
    html = "<html lang='en'><title>T</title><p>Body text.</p>"  # one font to subset (Inter, as printed)
    css = "body { font-family: Inter, 'DejaVu Sans', sans-serif }"
    first = render_pdf(html, css, "file:///nowhere/", [], "doc").pdf
    monkeypatch.setattr(timeTools, "time", type("Clock", (), {"time": staticmethod(lambda: 1_800_000_000.0)}))
    second = render_pdf(html, css, "file:///nowhere/", [], "doc").pdf
    assert used, "the fontTools path was not taken"
    assert first == second


def test_guide_declares_pdf_ua(guide):
    reader = PdfReader(str(guide))
    xmp = reader.trailer["/Root"]["/Metadata"].get_data()
    assert b'pdfuaid:part="1"' in xmp
    assert b"Fixture Course: facilitator guide" in xmp
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712


# ---- the assembler itself, on small handmade parts

def handmade_part(title: str, pages: int = 2, inherit_box: bool = False) -> bytes:
    """A PDF with a bookmark per page, a named destination 'same' on its last page, a link
    to it from the first page, and a string that looks like PDF syntax."""
    import io

    import pikepdf
    from pikepdf import Array, Dictionary, Name, OutlineItem, String

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(300, 400))
    if inherit_box:  # the size is given by the page tree, not by each page
        for page in pdf.pages:
            del page.obj["/MediaBox"]
        pdf.Root.Pages.MediaBox = Array([0, 0, 300, 400])
    last = pdf.pages[-1].obj
    pdf.Root.Names = Dictionary(Dests=Dictionary(Names=Array([String("same"), Array([last, Name.Fit])])))
    link = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 10, 10]),
                                        Dest=String("same"), Contents=String("see 1 0 R and /StructParents 7 (x")))
    pdf.pages[0].obj.Annots = Array([link])
    with pdf.open_outline() as outline:
        top = OutlineItem(title, 0)
        top.children.extend(OutlineItem(f"{title} page {n + 1}", n) for n in range(pages))
        outline.root.append(top)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def assembled_reader(parts, tmp_path, title="Joined"):
    from kit.assemble import Part, assemble, prepare

    path = tmp_path / "joined.pdf"
    with open(path, "wb") as handle:
        assemble([Part(prepare(p), label, digest=bytes(16)) for p, label in parts], title, "en", handle)
    return PdfReader(str(path)), path


def test_parts_keep_their_own_links_bookmarks_and_strings(tmp_path):
    reader, path = assembled_reader([(handmade_part("First", 3), "1-"), (handmade_part("Second"), "2-")],
                                    tmp_path)
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    assert len(reader.pages) == 6  # 3 pages, a blank one so that part 2 starts on the right, 2 pages
    assert list(reader.page_labels) == ["1-1", "1-2", "1-3", "1-4", "2-1", "2-2"]
    # Both parts named a destination 'same': each link still leads to its own part's last page.
    page_numbers = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    targets = [page_numbers[reader.pages[i]["/Annots"][0].get_object()["/Dest"][0].idnum] for i in (0, 4)]
    assert targets == [2, 5]
    assert reader.pages[4]["/Annots"][0].get_object()["/Contents"] == "see 1 0 R and /StructParents 7 (x"
    # The named destinations are kept for links from outside (the first part's, for a shared name).
    names = reader.trailer["/Root"]["/Names"]["/Dests"]["/Names"]
    assert names[0] == "same" and page_numbers[names[1][0].idnum] == 2
    # One bookmark tree, in order, each part's under its own top item.
    outline = [(item.title, [child.title for child in children])
               for item, children in zip(reader.outline[::2], reader.outline[1::2])]
    assert outline == [("First", ["First page 1", "First page 2", "First page 3"]),
                       ("Second", ["Second page 1", "Second page 2"])]
    assert reader.outline[2].page.indirect_reference.idnum == reader.pages[4].indirect_reference.idnum
    assert reader.metadata.title == "Joined"


def test_what_a_page_inherits_from_its_part_is_kept(tmp_path):
    reader, _ = assembled_reader([(handmade_part("Boxed", 1, inherit_box=True), "")], tmp_path)
    assert [float(v) for v in reader.pages[0].mediabox] == [0, 0, 300, 400]


def test_a_title_beyond_ascii_is_kept(tmp_path):
    reader, _ = assembled_reader([(handmade_part("Only", 1), "")], tmp_path, title="Apprentissage — guide")
    assert reader.metadata.title == "Apprentissage — guide"


def test_named_destinations_lead_to_their_sessions_pages(guide):
    reader = PdfReader(str(guide))
    labels = list(reader.page_labels)
    page_numbers = {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}
    names = reader.trailer["/Root"]["/Names"]["/Dests"]["/Names"]
    sessions = [(str(n), labels[page_numbers[d[0].idnum]]) for n, d in zip(names[::2], names[1::2])
                if str(n).startswith("s0")]
    assert len(sessions) >= 4
    # a session's own pages (3-1 ...), or its answer key's (K3-1 ...) for the key, its
    # questions and its answers
    on_key = ("-key", "-q", "-answer-")
    assert all(label.startswith(f"K{int(name[1:3])}-" if any(k in name for k in on_key) else f"{int(name[1:3])}-")
               for name, label in sessions), sessions
    assert any(label.startswith("K1-") for _, label in sessions)
