"""End to end: build real PDFs from a fixture kit and read them back."""
import shutil

import pytest
from pypdf import PdfReader
from pypdf.generic import ByteStringObject, TextStringObject

from kit.build import BuildOptions, build
from kit.errors import KitError

from conftest import FACILITATOR_ONLY, PARTICIPANT, module, write_kit
from kits import LONG_KIT
from pdftext import all_text, pages_text, pdf_objects


@pytest.fixture
def built(fixture_build):
    """The fixture kit, built once for the test process (conftest): read it, never build into it."""
    return fixture_build


def test_writes_whole_course_and_per_session_pdfs(built):
    _, out, result = built
    names = sorted(str(p.relative_to(out)) for p in result.written)
    assert names == ["fixture/facilitator-guide.pdf", "fixture/participant-worksheets.pdf",
                     "fixture/sessions/00-introduction-guide.pdf",
                     "fixture/sessions/01-fixture-guide.pdf", "fixture/sessions/01-fixture-worksheet.pdf"]
    assert not list(out.rglob("*.tmp"))


def test_guide_has_all_facilitator_material(built):
    _, out, _ = built
    text = all_text(out / "fixture/facilitator-guide.pdf")
    for marker in FACILITATOR_ONLY + PARTICIPANT:
        assert marker in text, marker


@pytest.mark.parametrize("name", ["participant-worksheets.pdf", "sessions/01-fixture-worksheet.pdf"])
def test_worksheets_have_no_facilitator_material(built, name):
    _, out, _ = built
    pages = pages_text(out / "fixture" / name)
    for marker in FACILITATOR_ONLY:
        assert not any(marker in page for page in pages), marker
    text = " ".join(pages)
    for marker in PARTICIPANT:
        assert marker in text, marker


def pdf_strings(path):
    """Every string object in the file: bookmarks, tags, metadata, link targets."""
    reader = PdfReader(str(path))
    return [str(obj) if isinstance(obj, TextStringObject) else obj.decode("latin-1")
            for obj in pdf_objects(reader.trailer) if isinstance(obj, (TextStringObject, ByteStringObject))]


def test_worksheet_file_holds_no_facilitator_string_anywhere(built):
    """Removed from the document, not hidden: no bookmark, tag or metadata carries it."""
    _, out, _ = built
    worksheet = pdf_strings(out / "fixture/participant-worksheets.pdf")
    assert any("PART-PROMPT-TITLE" in s or "Fixture Session" in s for s in worksheet)
    assert not [s for s in worksheet if "FAC-" in s]
    guide = pdf_strings(out / "fixture/facilitator-guide.pdf")
    assert any("Recap" in s for s in guide)


def test_guide_run_of_show_and_page_numbers(built):
    _, out, _ = built
    text = all_text(out / "fixture/facilitator-guide.pdf")
    assert "0:00–0:10 Recap recap 10" in text
    assert "0:10–0:25 Pair flip pair 15" in text
    assert "0:25–0:30 Wrap-up wrap-up 5" in text
    reader = PdfReader(str(out / "fixture/facilitator-guide.pdf"))
    labels = list(reader.page_labels)
    assert labels[0] == "i" and "1-1" in labels


def test_guide_bookmarks_cover_sessions_and_segments(built):
    _, out, _ = built
    reader = PdfReader(str(out / "fixture/facilitator-guide.pdf"))

    def titles(items):
        for item in items:
            if isinstance(item, list):
                yield from titles(item)
            else:
                yield item.title
    names = list(titles(reader.outline))
    for title in ["Fixture Session", "Recap", "Pair flip", "Wrap-up"]:
        assert title in names


def test_content_error_stops_the_build_and_keeps_earlier_outputs(built, tmp_path):
    _, shared, result = built
    out = tmp_path / "out"  # an earlier build's outputs and cache, copied: never build into the shared folder
    shutil.copytree(shared, out, symlinks=True)
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    assert {out / p.relative_to(shared) for p in result.written} <= set(before)
    broken = write_kit(tmp_path / "kit", {"content/fixture/02-broken.md": module(
        "title: Broken\nminutes: 10", "## A {minutes=15 kind=recap}\n\nx\n")})
    with pytest.raises(KitError) as err:
        build(broken, BuildOptions(out=out, jobs=1))
    assert "content/fixture/02-broken.md:5: the segments add up to 15 minutes" in str(err.value)
    assert {p: p.read_bytes() for p in out.rglob("*.pdf")} == before


def test_refuses_to_write_into_content(tmp_path):
    root = write_kit(tmp_path / "kit")
    with pytest.raises(KitError) as err:
        build(root, BuildOptions(out=root / "content" / "out"))
    assert "inside the kit's content/ folder" in str(err.value)
    assert not (root / "content" / "out").exists()


def test_letter_paper_gives_letter_pages(shared_builds):
    _, out, _ = shared_builds.get(LONG_KIT, paper="letter")  # test_print's Letter build
    page = PdfReader(str(out / "fixture/participant-worksheets.pdf")).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_template_injection_is_printed_literally(tmp_path):
    body = ("## A {minutes=10 kind=recap}\n\nLiteral {{ 7*7 }} and {% raw %}x{% endraw %} here.\n\n"
            ":::: prompt P\n\nPrompt {{ 6*7 }}\n\n::: answer\nA\n:::\n::::\n")
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    build(root, BuildOptions(out=tmp_path / "out", jobs=1))
    guide = all_text(tmp_path / "out/fixture/facilitator-guide.pdf")
    assert "Literal {{ 7*7 }} and {% raw %}x{% endraw %} here." in guide
    assert "49" not in guide
    assert "Prompt {{ 6*7 }}" in all_text(tmp_path / "out/fixture/participant-worksheets.pdf")
