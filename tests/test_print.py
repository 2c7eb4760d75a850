"""Print craft, read back from real PDFs: contents page numbers, fonts, paper, recto starts,
QR codes, run sheets, boxes kept whole. One Letter-size build of a two-session kit serves
the whole module (and test_printfix: it is built once per test run, shared)."""
import base64
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit import qr
from kit.build import BuildOptions, Planner
from kit.loader import load_kit

from kits import LONG_KIT, PARTS
from pdftext import pages_text

@pytest.fixture(scope="module")
def built(shared_builds):
    """(kit root, course output folder); shared: read only."""
    root, out, _ = shared_builds.get(LONG_KIT, paper="letter")
    return root, out / "fixture"


@pytest.fixture(scope="module")
def reader(built):
    """One PdfReader per built PDF (by its name in the course folder), read once for the module."""
    readers = {}

    def read(name: str) -> PdfReader:
        if name not in readers:
            readers[name] = PdfReader(str(built[1] / name))
        return readers[name]
    return read


@pytest.fixture(scope="module")
def guide(reader):
    return reader("facilitator-guide.pdf")


@pytest.fixture(scope="module")
def guide_pages(guide, built):
    labels = list(guide.page_labels)
    return list(zip(labels, pages_text(built[1] / "facilitator-guide.pdf"), strict=True))


@pytest.fixture(scope="module")
def kit(built):
    loaded = load_kit(built[0])
    return loaded.kit.courses[0]


def contents_entries(guide_pages, kit):
    """(title, label) of every contents entry, read from the front matter's text."""
    front = " ".join(text for label, text in guide_pages if "-" not in label)
    contents = front[front.index("Contents"):]
    entries = []
    for session in kit.sessions:
        for title in [session.title] + [seg.title for seg in session.segments]:
            found = re.search(re.escape(title) + r"[ .·…]*(\d+-\d+)", contents)
            assert found, f"no contents entry for {title!r}"
            entries.append((session, title, found.group(1)))
    return entries


def test_contents_page_numbers_are_the_pages_of_the_headings(guide_pages, kit):
    entries = contents_entries(guide_pages, kit)
    labels = [label for label, _ in guide_pages]
    assert len(entries) == 2 + 3 + PARTS
    later = 0
    for session, title, label in entries:
        assert label in labels, f"{title}: contents says {label}, no such page"
        if title == session.title:
            assert label == f"{session.number}-1"
            continue
        # The segment's heading is on that page, and on no page of the session's
        # detailed notes before it (the run sheet, page 2, lists every title).
        prefix = f"{session.number}-"
        notes = [(lbl, text) for lbl, text in guide_pages if lbl.startswith(prefix) and int(lbl[len(prefix):]) > 2]
        # the heading with its "2/3" (the recovery plan names segments too)
        index = [seg.title for seg in session.segments].index(title)
        heading = f"{title} {index + 1}/{len(session.segments)}"
        first = next(lbl for lbl, text in notes if heading in text)
        assert first == label, f"{title}: contents says {label}, heading is on {first}"
        later += label not in (f"{session.number}-3",)
    assert later >= 3, "the fixture should put some segments beyond the first page of notes"


def test_boxes_are_never_split_and_headings_never_left_alone(guide_pages):
    for k in range(1, PARTS + 1):
        start = [label for label, text in guide_pages if f"BOXSTART-{k}" in text]
        end = [label for label, text in guide_pages if f"BOXEND-{k}" in text]
        assert start == end and len(start) == 1, f"anecdote {k} split over {start} and {end}"
        # The heading is followed by the box: they share a page.
        heading = [label for label, text in guide_pages if re.search(rf"Part number {k}\b(?! ·)", text)
                   and "segments" not in text and "debrief: five minutes" not in text.casefold()]
        assert heading[-1] == start[0], f"heading of part {k} on {heading[-1]}, its box on {start[0]}"


def test_run_sheet_is_page_two_and_shows_every_segment_and_span(guide_pages, kit):
    from kit.views import run_of_show

    for session in kit.sessions:
        sheets = [(label, text) for label, text in guide_pages
                  if f"{session.minutes} minutes · {len(session.segments)} segments" in text]
        assert [label for label, _ in sheets] == [f"{session.number}-2"]
        text = sheets[0][1]
        for row in run_of_show(session):
            assert row.title in text and row.span in text, (session.number, row.title, row.span)
    first = dict(guide_pages)["1-2"].lower()  # labels may be set in capitals
    assert "fac-say welcome back." in first
    assert "timer 0:10 a explains (5 min) · 0:15 call “swap”: b explains (5 min) · 0:20 debrief (5 min)" in first
    assert "c1 fac-cut skip the anecdote saves 5 min" in " ".join(text.lower() for _, text in guide_pages)


def test_bookmarks_are_sessions_and_segments_only(guide, kit):
    outline = guide.outline
    tree = []
    for item in outline:
        if isinstance(item, list):
            tree[-1][1].extend(child.title for child in item if not isinstance(child, list))
        else:
            tree.append((item.title, []))
    sessions = {title: children for title, children in tree}
    for session in kit.sessions:
        assert sessions[session.title] == [seg.title for seg in session.segments]
        assert sessions[f"Answer key · {session.title}"] == []  # right after the session's guide
        titles = [t for t, _ in tree]
        assert titles.index(f"Answer key · {session.title}") == titles.index(session.title) + 1
    assert "Contents" in sessions
    for inner in ("Objectives", "Run sheet", "Pre-work", "Story 1", "About this session"):
        assert inner not in [t for t, _ in tree] + [c for _, cs in tree for c in cs]


def test_spaced_capitals_read_back_as_whole_words(built):
    """Labels printed in spaced capitals stay whole words for the viewers that search and
    copy text: poppler (pdftotext here) and Chrome's PDFium start a new word where letters
    are spaced by about 0.1 em or more, so the cover read "FAC I L I TATO R" at 0.16 em."""
    guide = pages_text(built[1] / "facilitator-guide.pdf")
    sheets = pages_text(built[1] / "participant-worksheets.pdf")
    assert guide[0].startswith("FACILITATOR GUIDE Fixture Course"), guide[0][:60]
    assert sheets[0].startswith("PARTICIPANT WORKSHEETS Fixture Course"), sheets[0][:60]
    assert any("RUN SHEET · KEEP IT ON THE TABLE" in page for page in guide)
    for name in ("base.css", "guide.css", "worksheet.css", "report.css"):
        css = (Path(__file__).parents[1] / "templates" / name).read_text()
        spacings = [float(value) for value in re.findall(r"letter-spacing:\s*(-?[\d.]+)em", css)]
        assert spacings and max(spacings) <= 0.08, (name, spacings)


def test_a_loose_guide_page_says_it_is_the_facilitators(built):
    """Guide pages share the worksheets' layout; the running header tells them apart (the
    answer key's pages have their band instead), and a session's first page, which has its
    title instead, says so above it."""
    sessions = built[1] / "sessions"
    assert len(pages_text(sessions / "01-fixture-guide.pdf")) > 2
    for guide in sorted(sessions.glob("*-guide.pdf")):
        pages = pages_text(guide)
        assert all("Facilitator guide · Fixture Course" in page or "NEVER HAND IT OUT" in page
                   for page in pages[1:]), guide.name
        if not guide.name.startswith("00-"):
            assert re.match(r"SESSION \d+ · FACILITATOR GUIDE · ", pages[0]), pages[0][:60]
    for sheet in [*sessions.glob("*-worksheet.pdf"), built[1] / "participant-worksheets.pdf"]:
        assert not any("Facilitator guide" in page for page in pages_text(sheet)), sheet.name


def test_every_page_is_letter_size(reader):
    for name in ("facilitator-guide.pdf", "participant-worksheets.pdf", "sessions/02-long-guide.pdf"):
        for page in reader(name).pages:
            assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)


def test_each_session_starts_on_a_right_hand_page(reader):
    for name in ("participant-worksheets.pdf", "facilitator-guide.pdf"):
        labels = list(reader(name).page_labels)
        starts = [i for i, label in enumerate(labels)  # not the answer keys (K1-1), which follow their guides
                  if label.endswith("-1") and not label.startswith(("0-", "K"))]
        assert len(starts) == 2
        assert all((i + 1) % 2 == 1 for i in starts), (name, starts)


def test_the_answer_key_keeps_only_the_worksheet_pages_that_have_answers(built):
    sessions = built[1] / "sessions"
    sheet = pages_text(sessions / "01-fixture-worksheet.pdf")
    # two pages of questions (the first with the prompt, the second the pair flip's), then the card
    assert len(sheet) == 3 and "PART-PROMPT-TEXT" in sheet[0] and "PART-PAIR-TEXT" in sheet[1]
    key = [page for page in pages_text(sessions / "01-fixture-guide.pdf") if "NEVER HAND IT OUT" in page]
    # the pair flip's page has no answer: the key leaves it out, and says which page it repeats
    assert [re.findall(r"worksheet page (W1-\d+)", page) for page in key] == [["W1-1"]]
    assert "PART-PROMPT-TEXT" in key[0] and "FAC-ANSWER linear in the weights." in key[0]
    assert not any("PART-PAIR-TEXT" in page for page in key)


def test_worksheet_first_page_has_name_field_checklist_and_codes(built):
    first = pages_text(built[1] / "sessions/01-fixture-worksheet.pdf")[0]
    assert "Name" in first and "PART-PREWORK-VIDEO" in first and "https://example.org/video" in first


def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


@pytest.mark.parametrize("name", ["facilitator-guide.pdf", "participant-worksheets.pdf", "sessions/02-long-guide.pdf"])
def test_every_font_is_embedded(built, name):
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) is not installed")
    result = run("pdffonts", str(built[1] / name))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        # name type... encoding emb sub uni id gen: 'emb' is the fifth field from the end
        assert row.split()[-5] == "yes", row
    assert any("Inter" in row for row in rows)


@pytest.mark.parametrize("name", ["facilitator-guide.pdf", "participant-worksheets.pdf"])
def test_qpdf_check_passes(built, name):
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf is not installed")
    result = run("qpdf", "--check", str(built[1] / name))
    assert result.returncode == 0, result.stdout + result.stderr


class Images(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.images = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.fixture(scope="module")
def planned(built):
    root = built[0]
    course = load_kit(root).kit.courses[0]
    planner = Planner(root, BuildOptions(out=root / "unused"))
    return course, planner


def decoded(src):
    assert src.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(src.split(",", 1)[1]).decode()


def test_qr_code_beside_every_prework_and_resource_link(planned):
    course, planner = planned
    for session in course.sessions:
        guide = Images(planner.guide_session(course, session).html).images
        sheet = Images(planner.worksheet_session(course, session).html).images
        codes = {i["alt"]: decoded(i["src"]) for i in guide + sheet if i.get("class") == "qr"}
        for item in session.prework:
            assert codes[f"QR code for {item.url}"] == qr.qr_svg(item.url)
            assert sum(i.get("alt") == f"QR code for {item.url}" for i in sheet) == 1
        for item in session.resources:
            assert sum(i.get("alt") == f"QR code for {item.url}" for i in guide) == 1
    assert any(s.resources for s in course.sessions)


def test_every_image_has_alt_text_and_the_timeline_is_svg(planned):
    course, planner = planned
    docs = [planner.guide_session(course, s) for s in course.sessions]
    docs += [planner.worksheet_session(course, s) for s in course.sessions]
    docs.append(planner.guide_front(course, {}))
    for doc in docs:
        for image in Images(doc.html).images:
            assert image.get("alt", "").strip(), (doc.key, image.get("src", "")[:40])
    timelines = [i for i in Images(docs[1].html).images if i.get("class") == "timeline"]
    assert len(timelines) == 1
    svg = decoded(timelines[0]["src"])
    for k in range(1, PARTS + 1):
        assert f"Part number {k}" in timelines[0]["alt"]
    assert svg.count('class="seg"') == PARTS


def test_every_figure_in_the_tagged_pdf_has_alt_text(reader):
    """The QR codes and the timeline reach the structure tree as figures with their alt text."""
    from pdftext import pdf_objects

    tree = reader("sessions/02-long-guide.pdf").trailer["/Root"].raw_get("/StructTreeRoot")
    figures = [str(obj.get("/Alt", "")) for obj in pdf_objects(tree, keys={"/K"})
               if isinstance(obj, dict) and obj.get("/S") == "/Figure"]
    assert len(figures) == 4, figures  # the answer key repeats the worksheet's code for the pre-work
    assert figures.count("QR code for https://example.org/second-video") == 2
    assert "QR code for https://example.org/further" in figures
    assert any(f.startswith("Timeline of session 2: 1. Part number 1") for f in figures)
