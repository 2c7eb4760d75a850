"""The build cache re-renders exactly what an edit touches; parallel equals sequential."""
import shutil
from pathlib import Path

import pytest

import kit.engine
from kit.build import BuildOptions, build

from conftest import write_kit
from kits import TINY_KIT, TWO_SESSION_KIT
from pdftext import labelled_texts

# What a build of TINY_KIT renders (its five PDFs are assembled from these).
TINY_DOCUMENTS = sorted([
    "fixture/sessions/01-fixture-guide.pdf", "fixture/sessions/01-fixture-worksheet.pdf",
    "fixture/front-worksheet.pdf", "fixture/front-guide.pdf", "fixture/sessions/00-introduction-guide.pdf",
    "fixture/sessions/01-fixture-answer-key.pdf"])


def outputs(out):
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*.pdf")) if ".kit-cache" not in p.parts}


@pytest.fixture(scope="module")
def cold(tmp_path_factory):
    """The two-session kit built once, by two workers, into a fresh folder. Shared: tests
    read it, or build into their own copy of it (warm_copy), never change it."""
    root = write_kit(tmp_path_factory.mktemp("kit"), TWO_SESSION_KIT)
    out = tmp_path_factory.mktemp("out")
    result = build(root, BuildOptions(out=out, jobs=2))
    return root, out, result


def warm_copy(cold, tmp_path):
    """A kit and output folder of this test's own, as the cold build (or a shared one) left
    them: the cache and build record hold no paths of the kit's, so a copy is as warm as
    the original."""
    root, out, _ = cold
    return shutil.copytree(root, tmp_path / "kit"), shutil.copytree(out, tmp_path / "out", symlinks=True)


def test_cold_build_renders_every_document(cold):
    _, _, result = cold
    assert sorted(result.rendered) == sorted([
        "fixture/sessions/01-fixture-guide.pdf", "fixture/sessions/02-second-guide.pdf",
        "fixture/sessions/01-fixture-worksheet.pdf", "fixture/sessions/02-second-worksheet.pdf",
        "fixture/front-worksheet.pdf", "fixture/front-guide.pdf",
        "fixture/sessions/00-introduction-guide.pdf",
        # each session's answer key, which ends its guide
        "fixture/sessions/01-fixture-answer-key.pdf", "fixture/sessions/02-second-answer-key.pdf"])


def test_rebuild_without_change_renders_nothing(cold):
    root, out, _ = cold  # in place: a build that changes nothing writes nothing
    before = outputs(out)
    result = build(root, BuildOptions(out=out, jobs=1))
    assert result.rendered == []
    assert outputs(out) == before


def test_editing_one_anecdote_renders_only_that_guide_and_the_cover(cold, tmp_path):
    root, out = warm_copy(cold, tmp_path)
    path = root / "content/fixture/02-second.md"
    path.write_text(path.read_text().replace("FAC-STORY once upon a time.", "FAC-STORY once upon a new time."))
    result = build(root, BuildOptions(out=out, jobs=1))
    # The cover and contents are rendered again because the cover carries the content's version;
    # the introduction, a document of its own, is not.
    assert sorted(result.rendered) == ["fixture/front-guide.pdf", "fixture/sessions/02-second-guide.pdf"]
    # the whole-course guide has the new story: read on its session-2 pages, where it is
    session_two = labelled_texts(out / "fixture/facilitator-guide.pdf", lambda label: label.startswith("2-"))
    assert "once upon a new time" in " ".join(text for _, text in session_two)


@pytest.fixture
def tiny(shared_builds):
    """TINY_KIT built once per run (jobs=1), shared with test_hardening and test_output_folder."""
    return shared_builds.get(TINY_KIT)


def test_a_template_change_renders_everything(tiny, tmp_path):
    root, out = warm_copy(tiny, tmp_path)
    css = root / "templates/guide.css"
    css.parent.mkdir(exist_ok=True)
    from kit.paths import bundled_templates
    css.write_text((bundled_templates() / "guide.css").read_text() + "\n.say { font-weight: bold; }\n")
    result = build(root, BuildOptions(out=out, jobs=1))
    assert sorted(set(result.rendered)) == TINY_DOCUMENTS  # templates may be shared: every document is rendered again


def test_an_option_change_renders_everything(tiny, tmp_path):
    root, out = warm_copy(tiny, tmp_path)
    result = build(root, BuildOptions(out=out, jobs=1, paper="letter"))
    assert sorted(set(result.rendered)) == TINY_DOCUMENTS  # (the cover twice when its early guess was wrong)


def test_parallel_and_sequential_builds_give_identical_pdfs(cold, tiny, shared_builds, tmp_path, monkeypatch):
    """Also: two builds give the same bytes with HarfBuzz subsetting (the parallel build and
    the sequential one, in kits of their own, each with its own cache)."""
    from weasyprint.pdf import fonts

    assert fonts.harfbuzz_subset is not None, "libharfbuzz-subset0 is missing: run tests/system-packages.sh"
    _, par_out, par_result = cold  # the parallel build: two workers, each rendering several documents
    _, seq_out, seq_result = shared_builds.get(TWO_SESSION_KIT)  # the sequential build (jobs=1)
    # Each build rendered every document itself: none came from a cache.
    assert "fixture/sessions/01-fixture-guide.pdf" in par_result.rendered
    assert sorted(par_result.rendered) == sorted(seq_result.rendered)
    seq, par = outputs(seq_out), outputs(par_out)
    names = ("facilitator-guide.pdf", "participant-worksheets.pdf", "sessions/01-fixture-guide.pdf",
             "sessions/01-fixture-worksheet.pdf")
    assert {Path("fixture") / name for name in names} <= set(seq)
    assert len(seq) == 7 and seq == par
    # Workers replaced after every document (they are, every few, on long courses): the tiny
    # kit, against its shared sequential build.
    monkeypatch.setattr(kit.engine, "DOCUMENTS_PER_WORKER", 1)
    tiny_root, tiny_out, _ = tiny  # shared: built from a copy of its kit
    build(shutil.copytree(tiny_root, tmp_path / "kit"), BuildOptions(out=tmp_path / "fresh", jobs=2))
    tiny_seq, fresh = outputs(tiny_out), outputs(tmp_path / "fresh")
    assert len(tiny_seq) == 5 and tiny_seq == fresh


def test_a_deleted_output_is_written_again(cold, tmp_path):
    root, out = warm_copy(cold, tmp_path)
    target = out / "fixture/participant-worksheets.pdf"
    before = target.read_bytes()
    target.unlink()
    result = build(root, BuildOptions(out=out, jobs=1))
    assert target.read_bytes() == before
    assert result.rendered == []  # every document came from the cache


def test_an_edit_that_moves_headings_gets_fresh_contents(cold, tmp_path):
    """The cover and contents are rendered early with the last build's page numbers;
    when an edit moves a heading to another page, they are rendered again."""
    import re

    root, out = warm_copy(cold, tmp_path)  # the last build: the cold one, its page numbers in the cache
    path = root / "content/fixture/02-second.md"
    # Wrap-up is on page 2-4 before the edit; this moves it two pages on
    long_talk = "\n\n".join(f"Talking point {i}: " + "words " * 60 for i in range(30))
    path.write_text(path.read_text().replace("FAC-TALKING-POINT about the recap.", long_talk))
    result = build(root, BuildOptions(out=out, jobs=1))
    assert result.rendered.count("fixture/front-guide.pdf") == 2  # the early guess was thrown away
    # the cover and contents (labels without a dash) and session 2's pages; no other page is looked at
    pages = labelled_texts(out / "fixture/facilitator-guide.pdf",
                           lambda label: "-" not in label or label.startswith("2-"))
    contents = " ".join(t for label, t in pages if "-" not in label)
    second = contents[contents.index("Second Session"):]
    listed = re.search(r"Wrap-up[ .]*(\d+-\d+)", second).group(1)
    heading_pages = [label for label, t in pages if label.startswith("2-") and "Wrap-up" in t
                     and "debrief: five minutes" not in t.casefold()]  # the debrief page lists it too
    assert listed == heading_pages[-1] and listed not in ("2-1", "2-2", "2-3")
