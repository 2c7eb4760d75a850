"""Whole-course PDFs keep what each part had: tags, bookmarks, page labels, metadata."""
import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from kit.build import BuildOptions, build

from conftest import MODULE, write_kit


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    root = write_kit(tmp_path_factory.mktemp("kit"), {
        "content/fixture/02-second.md": MODULE.replace("title: Fixture Session", "title: Second Session")})
    out = tmp_path_factory.mktemp("out")
    build(root, BuildOptions(out=out))
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


def test_two_builds_give_the_same_bytes(tmp_path):
    root = write_kit(tmp_path / "kit")
    build(root, BuildOptions(out=tmp_path / "a", jobs=1))
    build(root, BuildOptions(out=tmp_path / "b", jobs=1))
    for name in ("facilitator-guide.pdf", "participant-worksheets.pdf"):
        assert (tmp_path / "a/fixture" / name).read_bytes() == (tmp_path / "b/fixture" / name).read_bytes()


def test_guide_declares_pdf_ua(guide):
    reader = PdfReader(str(guide))
    xmp = reader.trailer["/Root"]["/Metadata"].get_data()
    assert b'pdfuaid:part="1"' in xmp
    assert b"Fixture Course: facilitator guide" in xmp
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
