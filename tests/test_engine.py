"""The build cache re-renders exactly what an edit touches; parallel equals sequential."""
import pytest

import kit.engine
from kit.build import BuildOptions, build

from conftest import MODULE, write_kit

SECOND = MODULE.replace("title: Fixture Session", "title: Second Session")


def two_session_kit(root):
    return write_kit(root, {"content/fixture/02-second.md": SECOND})


def outputs(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.pdf")) if ".kit-cache" not in p.parts}


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    root = two_session_kit(tmp_path_factory.mktemp("kit"))
    out = tmp_path_factory.mktemp("out")
    result = build(root, BuildOptions(out=out, jobs=2))
    return root, out, result


def test_cold_build_renders_every_document(cold):
    _, _, result = cold
    assert sorted(result.rendered) == sorted([
        "fixture/sessions/01-fixture-guide.pdf", "fixture/sessions/02-second-guide.pdf",
        "fixture/sessions/01-fixture-worksheet.pdf", "fixture/sessions/02-second-worksheet.pdf",
        "fixture/front-worksheet.pdf", "fixture/front-guide.pdf",
        "fixture/sessions/00-introduction-guide.pdf"])


def test_rebuild_without_change_renders_nothing(cold):
    root, out, _ = cold
    before = outputs(out)
    result = build(root, BuildOptions(out=out, jobs=2))
    assert result.rendered == []
    assert outputs(out) == before


def test_editing_one_anecdote_renders_only_that_guide_and_the_cover(cold, tmp_path):
    root, out, _ = cold
    path = root / "content/fixture/02-second.md"
    original = path.read_text()
    path.write_text(original.replace("FAC-STORY once upon a time.", "FAC-STORY once upon a new time."))
    try:
        result = build(root, BuildOptions(out=out, jobs=2))
    finally:
        path.write_text(original)
    # The cover and contents are rendered again because the cover carries the content's version;
    # the introduction, a document of its own, is not.
    assert sorted(result.rendered) == ["fixture/front-guide.pdf", "fixture/sessions/02-second-guide.pdf"]
    from pdftext import all_text
    assert "once upon a new time" in all_text(out / "fixture/facilitator-guide.pdf")


def test_a_template_change_renders_everything(cold, tmp_path):
    root, out, _ = cold
    css = root / "templates/guide.css"
    css.parent.mkdir(exist_ok=True)
    from kit.paths import bundled_templates
    css.write_text((bundled_templates() / "guide.css").read_text() + "\n.say { font-weight: bold; }\n")
    try:
        result = build(root, BuildOptions(out=out, jobs=2))
    finally:
        css.unlink()
        css.parent.rmdir()
    assert len(result.rendered) == 7  # templates may be shared: every document is rendered again


def test_an_option_change_renders_everything(cold):
    root, out, _ = cold
    result = build(root, BuildOptions(out=out, jobs=2, paper="letter"))
    assert len(result.rendered) == 7


def test_parallel_and_sequential_builds_give_identical_pdfs(tmp_path, monkeypatch):
    root = two_session_kit(tmp_path / "kit")
    build(root, BuildOptions(out=tmp_path / "seq", jobs=1))
    build(root, BuildOptions(out=tmp_path / "par", jobs=2))
    # Workers replaced after every document (they are, every few, on long courses).
    monkeypatch.setattr(kit.engine, "DOCUMENTS_PER_WORKER", 1)
    build(root, BuildOptions(out=tmp_path / "fresh", jobs=2))
    seq, par, fresh = (outputs(tmp_path / name) for name in ("seq", "par", "fresh"))
    assert len(seq) == 7 and seq == par == fresh


def test_a_deleted_output_is_written_again(cold):
    root, out, _ = cold
    build(root, BuildOptions(out=out, jobs=2))
    target = out / "fixture/participant-worksheets.pdf"
    before = target.read_bytes()
    target.unlink()
    result = build(root, BuildOptions(out=out, jobs=2))
    assert target.read_bytes() == before
    assert result.rendered == []  # every document came from the cache


def test_an_edit_that_moves_headings_gets_fresh_contents(tmp_path):
    """The cover and contents are rendered early with the last build's page numbers;
    when an edit moves a heading to another page, they are rendered again."""
    import re
    from pypdf import PdfReader
    from pdftext import norm

    root = two_session_kit(tmp_path / "kit")
    out = tmp_path / "out"
    build(root, BuildOptions(out=out, jobs=2))
    path = root / "content/fixture/02-second.md"
    long_talk = "\n\n".join(f"Talking point {i}: " + "words " * 60 for i in range(40))
    path.write_text(path.read_text().replace("FAC-TALKING-POINT about the recap.", long_talk))
    result = build(root, BuildOptions(out=out, jobs=2))
    assert result.rendered.count("fixture/front-guide.pdf") == 2  # the early guess was thrown away
    reader = PdfReader(str(out / "fixture/facilitator-guide.pdf"))
    labels = list(reader.page_labels)
    texts = [norm(p.extract_text() or "") for p in reader.pages]
    contents = " ".join(t for label, t in zip(labels, texts) if "-" not in label)
    second = contents[contents.index("Second Session"):]
    listed = re.search(r"Wrap-up[ .]*(\d+-\d+)", second).group(1)
    heading_pages = [label for label, t in zip(labels, texts) if label.startswith("2-") and "Wrap-up" in t]
    assert listed == heading_pages[-1] and listed not in ("2-1", "2-2", "2-3")
