"""Input that once crashed a build or ran without bound: each is a `path:line` error (or a
warning) found while loading, before anything is rendered; never a traceback.

The limits themselves (kit.markdown, kit.parse, kit.imagesize, kit.qr, kit.yamlload,
kit.delivery) are checked at their edges: just inside is fine, just outside is refused.
How long loading and planning take as a module grows is for tests/benchmarks/bench_blocks.py.
"""
from __future__ import annotations

import base64
import io
import re
import struct
import zlib

import pytest
from click.testing import CliRunner

from kit import imagesize, qr
from kit.build import BuildOptions, build, load_and_plan
from kit.cli import main
from kit.errors import KitError
from kit.loader import load_kit
from kit.markdown import MAX_ELEMENTS, MAX_HTML_DEPTH, markup_depth, oversized_table, render_markdown
from kit.parse import MAX_BLOCKS, MAX_ITEMS, MAX_LINKS

from conftest import module, write_kit


PATH = "content/fixture/01-fixture.md"
HEAD = "## A {minutes=10 kind=recap}\n\n"  # a module's body starts on line 5 (module() front matter: 2 lines)


def kit_with(make_kit, body: str, front: str = "title: T\nminutes: 10", **files):
    return make_kit({PATH: module(front, body), **{f"content/fixture/{k}": v for k, v in files.items()}})


def errors(root) -> list[str]:
    return [p.format() for p in load_kit(root).problems.errors]


def warnings(root) -> list[str]:
    return [p.format() for p in load_kit(root).problems.warnings]


# --- nesting that the PDF engine would recurse into ------------------------------------

DEEP = [
    ("emphasis-300", "*" * 300 + "x" + "*" * 300, "the text's elements are nested 151 deep"),
    ("emphasis-1500", "*" * 1500 + "x" + "*" * 1500, "the text's elements are nested 751 deep"),
    ("strong-underscores", "__" * 400 + "x" + "__" * 400, "the text's elements are nested 401 deep"),
    ("markdown-lists-30", "- " * 30 + "x", "the text's elements are nested 60 deep"),
    ("markdown-quotes-45", "> " * 45 + "x", "the text's elements are nested 46 deep"),
    ("spans-3000", "<span>" * 3000 + "x" + "</span>" * 3000, "raw HTML elements nested 3000 deep"),
    ("strong-html-5000", "<strong>" * 5000 + "x", "raw HTML elements nested 5000 deep"),
    ("lists-html-1000", "<ul><li>" * 1000 + "x" + "</li></ul>" * 1000, "raw HTML elements nested 1000 deep"),
    ("quotes-html-2000", "<blockquote>" * 2000 + "x" + "</blockquote>" * 2000, "raw HTML elements nested 2000 deep"),
    ("tables-html-300", "<table><tr><td>" * 300 + "x" + "</td></tr></table>" * 300,
     "raw HTML elements nested 300 deep"),
    # Only nine tables, but each is four elements (table, tbody, tr, td): the rendered depth counts.
    ("tables-html-12", "<table><tr><td>" * 12 + "x" + "</td></tr></table>" * 12,
     "the text's elements are nested 48 deep"),
]


@pytest.mark.parametrize("text, message", [d[1:] for d in DEEP], ids=[d[0] for d in DEEP])
def test_deep_nesting_is_an_error_at_its_line(make_kit, text, message):
    body = HEAD + "::: note\nA calm first line.\n\n" + text + "\n:::\n"
    (error,) = errors(kit_with(make_kit, body))
    assert error.startswith(f"{PATH}:10: {message}"), error
    assert error.endswith(f"at most {MAX_HTML_DEPTH} can be printed")


@pytest.mark.parametrize("text", ["*" * 5000 + "x" + "*" * 5000, "_a " * 2500 + "x" + " a_" * 2500,
                                  "Now " + "~~" * 1200 + "x" + "~~" * 1200, "A " + "^" * 3000 + "x"])
def test_thousands_of_open_emphasis_marks_are_refused_unread(make_kit, unrendered, text):
    """Markdown takes time that grows with the square of how deep emphasis nests (three
    minutes for 1 MiB of '*'): past a few thousand marks the text is not rendered at all."""
    body = HEAD + "::: note\nA calm first line.\n\n" + text + "\n:::\n"
    (error,) = errors(kit_with(make_kit, body))
    assert re.fullmatch(rf"{PATH}:10: [\d,]+ emphasis marks \('\*', '_', '~', '\^'\) are open at once in one "
                        r"paragraph, more than the 2,000 read: Markdown could nest them far deeper than the 40 "
                        r"levels that can be printed \(write a literal one as \\\*\)", error), error


def test_many_closed_emphasis_marks_are_fine(make_kit):
    text = "\n".join(f"- **item {i}** with *stress* and ~~strike~~, `a*b` and 5 * 3" for i in range(300))
    assert errors(kit_with(make_kit, HEAD + "::: note\n" + text + "\n:::\n")) == []


def test_deep_nesting_in_a_field_or_a_title_is_found_too(make_kit):
    body = HEAD + "::: anecdote Title\npoint: " + "<b>" * 100 + "x\n\nThe story.\n:::\n"
    assert errors(kit_with(make_kit, body)) == [
        f"{PATH}:8: raw HTML elements nested 100 deep (or left open without their end tag): at most 40 can be "
        "printed"]
    intro = "# How to run it\n\nFine.\n\n" + "_" * 200 + "x" + "_" * 200 + "\n"
    root = make_kit({"content/fixture/introduction.md": intro})
    (error,) = errors(root)
    assert error.startswith("content/fixture/introduction.md:5: the text's elements are nested")


def test_nesting_just_inside_the_limit_is_fine(make_kit):
    text = "<blockquote>" * MAX_HTML_DEPTH + "x" + "</blockquote>" * MAX_HTML_DEPTH
    assert markup_depth(text) == MAX_HTML_DEPTH
    assert errors(kit_with(make_kit, HEAD + "::: note\n" + text + "\n:::\n")) == []
    deeper = "<blockquote>" + text + "</blockquote>"
    assert len(errors(kit_with(make_kit, HEAD + "::: note\n" + deeper + "\n:::\n"))) == 1


def test_tags_in_code_and_tags_that_close_themselves_do_not_count(make_kit):
    code = "```html\n" + "<div>\n" * 200 + "```\n"
    inline = " ".join(["`<span>`"] * 100)
    items = "<ul>" + "<li>item" * 300 + "</ul>"
    body = HEAD + "::: note\n" + code + "\n" + inline + "\n\n" + items + "\n:::\n"
    assert errors(kit_with(make_kit, body)) == []


def at_the_limit(depth: int) -> list[str]:
    """Texts whose HTML nests exactly `depth` elements deep, of every allowed kind of element."""
    def wrap(opening, closing, times, inner="x"):
        return opening * times + inner + closing * times
    texts = [wrap("<blockquote>", "</blockquote>", depth), wrap("<ul><li>", "</li></ul>", depth // 2),
             wrap("<table><tr><td>", "</td></tr></table>", depth // 4), wrap("<em>", "</em>", depth - 1),
             wrap("<dl><dd>", "</dd></dl>", depth // 2), "*" * (2 * depth - 2) + "x" + "*" * (2 * depth - 2),
             "> " * (depth - 1) + "x", "- " * (depth // 2) + "x"]
    assert {markup_depth(t) for t in texts} == {depth}
    return texts


def at_the_limit_body() -> str:
    """Each text sits in the template's deepest places: a prompt's answer, a question's answer,
    and the run sheet's table (a timing note's 'cut')."""
    body = HEAD
    for text in at_the_limit(MAX_HTML_DEPTH):
        body += (f"::: timing\ncut: '{text}'\n:::\n\n:::: question\nWhy?\n\n::: answer\n{text}\n:::\n::::\n\n"
                 f":::: prompt P\n{text}\n\n::: answer\n{text}\n:::\n::::\n\n")
    return body


def huge_spans_body() -> str:
    """Unclamped, the first table did not finish in 400 s; the second took 48 s."""
    tall = "".join(f'<tr><td rowspan="65534">{i}</td></tr>' for i in range(80))  # a staircase 80 wide
    return (HEAD + '<table><tr><td colspan="1000000">wide</td></tr></table>\n\n'
            f"<table>{tall}</table>\n")


@pytest.fixture(scope="module")
def edge_build(tmp_path_factory):
    """One build of two sessions that are each a limit's edge: 01 nests every kind of element
    exactly as deep as may be printed, 02 has tables of huge spans (one build, not two: the
    fronts and the process's first rendering are paid once). (output folder, BuildResult)."""
    root = tmp_path_factory.mktemp("edges") / "kit"
    write_kit(root, {PATH: module("title: T\nminutes: 10", at_the_limit_body()),
                     "content/fixture/02-spans.md": module("title: Spans\nminutes: 10", huge_spans_body())})
    out = root.parent / "out"
    return out, build(root, BuildOptions(out=out, jobs=1))


def test_a_build_at_the_nesting_limit_succeeds_and_over_it_stops_before_rendering(edge_build, make_kit, tmp_path):
    out, result = edge_build
    assert (out / "fixture/facilitator-guide.pdf").is_file() and result.rendered
    assert "fixture/sessions/01-fixture-guide.pdf" in result.rendered  # the session at the limit itself

    body = at_the_limit_body()
    too_deep = "<span>" * (MAX_HTML_DEPTH + 1) + "x" + "</span>" * (MAX_HTML_DEPTH + 1)
    root = kit_with(make_kit, body + f"::: note\n{too_deep}\n:::\n")
    with pytest.raises(KitError) as err:
        build(root, BuildOptions(out=tmp_path / "out2", jobs=1))
    assert [p.format() for p in err.value.problems] == [
        f"{PATH}:{body.count(chr(10)) + 6}: raw HTML elements nested 41 deep (or left open without their end "
        "tag): at most 40 can be printed"]
    assert not (tmp_path / "out2").exists()


def test_deep_nesting_through_the_command_line_is_a_message(make_kit, tmp_path):
    root = kit_with(make_kit, HEAD + "*" * 1000 + "x" + "*" * 1000 + "\n")
    for args in (["check", str(root)], ["build", str(root), "-o", str(tmp_path / "out"), "-j", "1"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        assert f"{PATH}:7:" in result.output and "nested 501 deep" in result.output


# --- numbers too long to convert --------------------------------------------------------

def test_minutes_of_five_thousand_digits_in_the_front_matter(make_kit):
    for value in ("1" * 5000, "0x" + "f" * 5000, ":".join(["59"] * 2000), "1_" * 2500):
        root = kit_with(make_kit, HEAD + "x\n", f"title: T\nminutes: {value}")
        assert errors(root) == [f"{PATH}:3: a number of {len(value):,} characters is far too long (at most 30); "
                                "put it in quotes if it is meant as text"]


def test_minutes_of_five_thousand_digits_in_a_heading(make_kit):
    root = kit_with(make_kit, "## A {minutes=" + "9" * 5000 + " kind=recap}\n\nx\n")
    assert errors(root) == [f"{PATH}:5: segment heading: 'minutes' must be a whole number, not "
                            f"'{'9' * 40}...' (5,000 characters)"]
    root = kit_with(make_kit, "## A {minutes=" + "9" * 30 + " kind=recap}\n\nx\n")
    assert errors(root) == [f"{PATH}:5: segment heading: 'minutes' must be between 1 and 600, not {'9' * 30}"]


def test_fields_of_blocks_with_huge_numbers(make_kit):
    body = HEAD + ":::: prompt P\nlines: " + "4" * 5000 + "\n\nWhy?\n\n::: answer\nBecause.\n:::\n::::\n"
    assert errors(kit_with(make_kit, body)) == [
        f"{PATH}:8: in the fields of 'prompt': a number of 5,000 characters is far too long (at most 30); "
        "put it in quotes if it is meant as text"]


@pytest.mark.parametrize("escape, code", [("\\ud800", "U+D800"), ("\\udfff", "U+DFFF"), ("\\0", "U+0000")])
def test_yaml_escapes_that_are_no_text(make_kit, escape, code):
    root = kit_with(make_kit, HEAD + "x\n", f'title: "A {escape} B"\nminutes: 10')
    assert errors(root) == [f"{PATH}:2: the text holds the character {code} (written as an escape such as "
                            "'\\0' or '\\ud800'), which cannot be printed"]


# --- QR codes ----------------------------------------------------------------------------

def prework(url: str, count: int = 1) -> str:
    items = "".join(f"  - title: V{i}\n    kind: video\n    url: {url}\n" for i in range(count))
    return f"title: T\nminutes: 10\nprework:\n{items}"


def test_a_link_too_long_for_any_qr_code_is_an_error_at_its_line(make_kit, tmp_path):
    url = "https://example.org/?q=" + "x" * 3000
    root = kit_with(make_kit, HEAD + "x\n", prework(url) + f"resources:\n  - title: R\n    url: {url}-r")
    assert errors(root) == [
        f"{PATH}:7: the link is 3,023 bytes long, too long for a QR code (at most 2,331): shorten it, "
        "e.g. leave out tracking parameters",
        f"{PATH}:10: the link is 3,025 bytes long, too long for a QR code (at most 2,331): shorten it, "
        "e.g. leave out tracking parameters"]
    with pytest.raises(KitError):
        load_and_plan(root, BuildOptions(out=tmp_path / "out", jobs=1))


def test_the_longest_link_a_qr_code_holds_is_printed(make_kit):
    for url in ("https://example.org/?q=" + "x" * (qr.MAX_BYTES - 23),  # ASCII, one byte each
                "https://example.org/?q=" + "é" * (qr.MAX_BYTES - 23),  # ISO-8859-1, one byte each
                "https://example.org/?q=" + "€" * ((qr.MAX_BYTES - 23) // 3)):  # UTF-8, three bytes each
        assert qr.too_long(url) is None
        assert qr.qr_svg(url).startswith("<svg")  # segno can make it
        assert qr.too_long(url + "x" * 3) is not None
    root = kit_with(make_kit, HEAD + "x\n", prework("https://example.org/?q=" + "x" * (qr.MAX_BYTES - 23)))
    assert errors(root) == []


def test_too_many_links_in_a_session(make_kit):
    root = kit_with(make_kit, HEAD + "x\n", prework("https://example.org/v", MAX_LINKS + 1))
    assert errors(root) == [f"{PATH}:{5 + 3 * MAX_LINKS}: 'prework' has {MAX_LINKS + 1} items; a session may have "
                            f"at most {MAX_LINKS}"]
    assert errors(kit_with(make_kit, HEAD + "x\n", prework("https://example.org/v", MAX_LINKS))) == []


def test_too_many_items_in_a_list_of_the_front_matter(make_kit):
    objectives = "".join(f"  - Objective {i}\n" for i in range(MAX_ITEMS + 1))
    root = kit_with(make_kit, HEAD + "x\n", f"title: T\nminutes: 10\nobjectives:\n{objectives}")
    assert errors(root) == [f"{PATH}:{5 + MAX_ITEMS}: 'objectives' has {MAX_ITEMS + 1} items; a session may "
                            f"have at most {MAX_ITEMS}"]


# --- a delivery that runs past the year 9999 ---------------------------------------------

def test_delivery_past_the_year_9999_is_an_error_before_rendering(make_kit, tmp_path):
    root = make_kit()
    delivery = tmp_path / "cohort.yaml"
    delivery.write_text("cohort: C\nfirst_date: 9999-12-01\nstart: '12:30'\n")
    with pytest.raises(KitError) as err:
        load_and_plan(root, BuildOptions(out=tmp_path / "out", delivery=delivery))
    message = (f"{delivery}:2: first_date 9999-12-01 is too late: weekly sessions from then on would run past "
               "the year 9999")
    assert str(err.value) == message
    for args in (["build", str(root), "-o", str(tmp_path / "out"), "--delivery", str(delivery), "-j", "1"],
                 ["announce", "1", "--kit", str(root), "--delivery", str(delivery)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert message in result.output and "Traceback" not in result.output


def test_skipped_weeks_count_towards_the_end_of_the_calendar(tmp_path):
    from kit.delivery import MAX_SESSIONS, load_delivery
    from kit.errors import Problems

    # The latest first date whose hundred sessions still fit, then one that fits only without skips.
    path = tmp_path / "d.yaml"
    path.write_text("cohort: C\nfirst_date: 9997-12-31\nstart: '12:30'\n")
    delivery = load_delivery(path, Problems())
    assert delivery.dates(MAX_SESSIONS)[-1].year == 9999
    path.write_text("cohort: C\nfirst_date: 9997-12-31\nstart: '12:30'\nskip: [9998-01-07, 9998-01-14, "
                    "9998-01-21, 9998-01-28, 9998-02-04, 9998-02-11, 9998-02-18, 9998-02-25, 9998-03-04, "
                    "9998-03-11, 9998-03-18, 9998-03-25, 9998-04-01, 9998-04-08, 9998-04-15, 9998-04-22]\n")
    problems = Problems()
    assert load_delivery(path, problems) is None
    assert [p.format() for p in problems.errors] == [
        f"{path}:2: first_date 9997-12-31 is too late: weekly sessions from then on would run past the year 9999"]


# --- table spans and table grids ----------------------------------------------------------

def test_huge_spans_are_clamped_with_a_warning_at_their_line(make_kit):
    body = (HEAD + "Before.\n\n<table>\n<tr><td colspan=\"1000000\">wide</td><td colspan=3>ok</td></tr>\n"
            "<tr><th rowspan='65534'>tall</th><td rowspan=0>to the end</td></tr>\n</table>\n")
    root = kit_with(make_kit, body)
    assert errors(root) == []
    assert sorted(warnings(root)) == [
        f"{PATH}:10: warning: colspan=\"1000000\" on <td> is more than 20: the cell spans 20 columns",
        f"{PATH}:11: warning: rowspan=\"65534\" on <th> is more than 100: the cell spans 100 rows"]
    html = render_markdown(body)
    assert re.findall(r'(colspan|rowspan)="(\d+)"', html) == [
        ("colspan", "20"), ("colspan", "3"), ("rowspan", "100"), ("rowspan", "100")]


@pytest.mark.parametrize("value, kept", [("1e5", "1"), (" +7", "7"), ("-3", "1"), ("0", "1"), ("x", None),
                                         ("9" * 5000, "20")])
def test_span_values_are_read_as_the_pdf_engine_reads_them(value, kept):
    html = render_markdown(f'<table><tr><td colspan="{value}">x</td></tr></table>')
    assert re.findall(r'colspan="(\d+)"', html) == ([kept] if kept else [])


def test_a_build_with_huge_spans_finishes(edge_build):
    """The spans are clamped (above): the build of the session of huge_spans_body() finishes."""
    out, result = edge_build
    assert (out / "fixture/facilitator-guide.pdf").is_file()
    assert "fixture/sessions/02-spans-guide.pdf" in result.rendered  # the session with the spans itself


def test_spans_that_push_a_table_wide_are_an_error(make_kit):
    row = "<tr>" + '<td rowspan="100" colspan="20">x</td>' * 10 + "</tr>\n"
    body = HEAD + "A first line.\n\n<table>\n" + row * 12 + "</table>\n"
    assert errors(kit_with(make_kit, body)) == [  # the first of the identical rows
        f"{PATH}:10: a table here is at least 1,400 columns by 8 rows (cells that span rows push the cells "
        "below them to the right): at most 10,000 cells can be printed"]


@pytest.fixture
def unrendered(monkeypatch):
    """Fails the test if any text is rendered (Markdown, then the sanitiser)."""
    import kit.markdown

    def no_rendering(*args):
        raise AssertionError("the text was rendered")
    monkeypatch.setattr(kit.markdown, "_render", no_rendering)


def test_a_markdown_table_that_fills_out_to_a_huge_one_is_refused_unread(make_kit, unrendered):
    """Markdown gives every row the header's columns: 300 columns over 1 MiB of '|x' rows
    would be a hundred million cells."""
    table = "|h" * 300 + "|\n" + "|-" * 300 + "|\n" + "|x\n" * 40
    assert errors(kit_with(make_kit, HEAD + "Before.\n\n" + table)) == [
        f"{PATH}:10: a Markdown table here is at least 300 columns by 34 rows (every row gets the header's "
        "columns): at most 10,000 cells can be printed"]


def test_a_text_of_too_many_paragraphs_is_refused_unread(make_kit, unrendered):
    body = HEAD + "::: note\n" + "".join(f"Paragraph {i}.\n\n" for i in range(10_001)) + ":::\n"
    assert errors(kit_with(make_kit, body)) == [
        f"{PATH}:{8 + 2 * 10_000}: the text has more than 10,000 paragraphs and list items: a file may make at "
        "most 5,000 HTML elements, which already take minutes to print; split it into several sessions"]


def test_a_fence_that_is_never_closed_hides_nothing(make_kit, unrendered):
    """Markdown reads an unclosed fence as text, so the checks read what follows it too."""
    body = HEAD + "Some talk.\n```\n" + "<blockquote>" * 50 + "\n"  # the module's end closes it for kit
    assert errors(kit_with(make_kit, body)) == [
        f"{PATH}:9: raw HTML elements nested 50 deep (or left open without their end tag): at most 40 can be "
        "printed"]


def test_table_grid_follows_the_pdf_engine():
    grid = ('<table><tbody><tr><td rowspan="2">a</td><td>b</td></tr>'
            '<tr><td colspan="3">c</td></tr></tbody></table>')
    assert oversized_table(grid, most=7) == (4, 2)  # c starts after a's column: 4 wide
    assert oversized_table(grid, most=8) is None
    groups = ('<table><thead><tr><td rowspan="5">h</td></tr></thead>'  # a span ends with its group
              '<tbody><tr><td>x</td></tr></tbody></table>')
    assert oversized_table(groups, most=1) == (1, 2)


def test_only_the_classes_markdown_writes_survive(make_kit):
    """The templates' classes would let text nest flex boxes: layout time triples with each level."""
    html = render_markdown('<span class="glance tick">a</span>\n\n- [ ] task\n\n```python\nx = 1\n```\n')
    assert 'class="glance' not in html and "tick" not in html
    assert 'class="task-list"' in html and 'class="language-python"' in html
    root = kit_with(make_kit, HEAD + '<span class="glance">a</span>\n')
    assert warnings(root) == [f"{PATH}:7: warning: class attribute on <span> is removed by the sanitiser; "
                              "styles belong in the kit's templates/"]


# --- how much a module may hold ---------------------------------------------------------------

def blocks(count: int) -> str:
    return HEAD + "".join(f"::: note\nN{i}.\n:::\n\n" for i in range(count))


def test_a_module_of_too_many_blocks_is_an_error_at_the_first_one_too_many(make_kit, tmp_path):
    root = kit_with(make_kit, blocks(MAX_BLOCKS + 1))
    assert errors(root) == [f"{PATH}:{7 + 4 * MAX_BLOCKS}: the module has {MAX_BLOCKS + 1:,} blocks; a session "
                            f"may have at most {MAX_BLOCKS}, which already take the PDF engine about 15 seconds: "
                            "split it into several sessions"]
    result = CliRunner().invoke(main, ["check", str(root)])
    assert result.exit_code == 1 and f"{PATH}:{7 + 4 * MAX_BLOCKS}: error: the module has" in result.output
    assert errors(kit_with(make_kit, blocks(MAX_BLOCKS))) == []


def test_nested_blocks_count_too(make_kit):
    body = HEAD + "".join(f":::: question\nQ{i}?\n\n::: answer\nA.\n:::\n::::\n\n" for i in range(MAX_BLOCKS // 2 + 1))
    (error,) = errors(kit_with(make_kit, body))
    assert f"the module has {2 * (MAX_BLOCKS // 2 + 1):,} blocks" in error


def test_a_text_of_too_many_elements_is_an_error(make_kit):
    items = "".join(f"- item {i}\n" for i in range(MAX_ELEMENTS))  # a <ul> and its items
    assert errors(kit_with(make_kit, HEAD + "::: note\n" + items + ":::\n")) == [
        f"{PATH}:7: the file's text makes more than {MAX_ELEMENTS:,} HTML elements (paragraphs, list items, "
        "table cells...), which would take minutes to print: split it into several sessions"]
    assert errors(kit_with(make_kit, HEAD + "::: note\n" + items[: items.index(f"- item {MAX_ELEMENTS - 50}")]
                           + ":::\n")) == []


# --- images: their size, read from the header -----------------------------------------------

def png_header(width: int, height: int) -> bytes:
    """A PNG's signature and IHDR chunk: all that is read of it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
            + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)))


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 5000  # a long segment to skip
    return (b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
            + b"\xff\xc2\x00\x11\x08" + struct.pack(">HH", height, width) + b"\x03" + b"\x00" * 9)


def gif_header(width: int, height: int, frame: tuple[int, int] = (1, 1)) -> bytes:
    comment = b"\x21\xfe" + b"\xff" + b"c" * 255 + b"\x00"  # an extension before the first frame
    return (b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00" + comment
            + b"\x2c" + struct.pack("<HHHH", 0, 0, *frame) + b"\x00")


def webp_header(width: int, height: int) -> bytes:
    chunk = b"\x00" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(chunk)) + b"WEBP" + b"VP8X" + struct.pack("<I", len(chunk)) + chunk


BIG = [
    ("png", png_header(12000, 12000), "12,000 x 12,000"),
    ("jpg", jpeg_header(10000, 5000), "10,000 x 5,000"),
    ("gif", gif_header(100, 100, frame=(9000, 9000)), "9,000 x 9,000"),  # a frame larger than the screen
    ("webp", webp_header(16000, 3000), "16,000 x 3,000"),
]


@pytest.mark.parametrize("ext, data, shown", BIG, ids=[b[0] for b in BIG])
def test_an_image_over_the_pixel_budget_is_an_error_without_decoding_it(make_kit, monkeypatch, ext, data, shown):
    from PIL import Image

    def no_decoding(*args, **kwargs):
        raise AssertionError("Pillow was asked to open the image")
    monkeypatch.setattr(Image, "open", no_decoding)
    root = kit_with(make_kit, HEAD + f"A photo:\n\n![photo](pictures/big.{ext})\n", **{f"pictures/big.{ext}": data})
    assert errors(root) == [f"{PATH}:9: image 'pictures/big.{ext}' is {shown} pixels: at most 40 megapixels can "
                            "be printed (scale it down; 300 pixels per inch is plenty on paper)"]


def test_real_images_within_the_budget_are_fine(make_kit):
    from PIL import Image

    files = {}
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp"), ("BMP", "bmp")):
        buffer = io.BytesIO()
        Image.new("RGB", (800, 600)).save(buffer, fmt)
        files[f"small.{ext}"] = buffer.getvalue()
        assert imagesize.raster_size(io.BytesIO(buffer.getvalue())) == (800, 600)
    body = HEAD + "".join(f"![a {ext}]({name})\n\n" for ext, name in ((n[-3:], n) for n in files))
    assert errors(kit_with(make_kit, body, **files)) == []


def test_another_format_is_measured_by_opening_it_lazily(make_kit):
    """A BMP is no format read here; Pillow opens it without decoding and tells its size."""
    header = b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 8000, 8000, 1, 24,
                                                                         0, 0, 0, 0, 0, 0)
    root = kit_with(make_kit, HEAD + "![bmp](big.bmp)\n", **{"big.bmp": header})
    assert errors(root) == [f"{PATH}:7: image 'big.bmp' is 8,000 x 8,000 pixels: at most 40 megapixels can be "
                            "printed (scale it down; 300 pixels per inch is plenty on paper)"]


def test_an_image_file_over_the_byte_limit(make_kit):
    root = kit_with(make_kit, HEAD + "![big](big.png)\n", **{"big.png": png_header(10, 10)})
    with open(root / "content/fixture/big.png", "r+b") as handle:
        handle.truncate(imagesize.MAX_BYTES + 1)  # sparse: nothing written
    assert errors(root) == [f"{PATH}:7: image 'big.png' is {imagesize.MAX_BYTES + 1:,} bytes: at most 16 MiB"]


def test_svg_images_are_checked_for_what_they_hold(make_kit):
    big = base64.b64encode(png_header(9000, 9000)).decode()
    svgs = {
        "embeds.svg": f'<svg xmlns="http://www.w3.org/2000/svg"><image href="data:image/png;base64,{big}"/></svg>',
        "names.svg": '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                     '<image xlink:href="pictures/huge.png"/></svg>',
        "deep.svg": '<svg xmlns="http://www.w3.org/2000/svg">' + "<g>" * 500 + "</g>" * 500 + "</svg>",
        "entities.svg": '<!DOCTYPE svg [<!ENTITY g "<g><g><g>">]><svg xmlns="http://www.w3.org/2000/svg">&g;</svg>',
        "outside.svg": '<svg xmlns="http://www.w3.org/2000/svg"><image href="../../../secret.png"/></svg>',
        "fine.svg": '<?xml version="1.0"?><!-- <g><g><g> --><svg xmlns="http://www.w3.org/2000/svg" '
                    'width="100000" height="100000"><g><rect width="1" height="1"/></g></svg>',
    }
    body = HEAD + "".join(f"![{name}]({name})\n\n" for name in svgs)
    root = kit_with(make_kit, body, **svgs, **{"pictures/huge.png": png_header(12000, 12000)})
    assert errors(root) == [
        f"{PATH}:7: SVG image 'embeds.svg' holds an image of 9,000 x 9,000 pixels: at most 40 megapixels can "
        "be printed (scale it down; 300 pixels per inch is plenty on paper)",
        f"{PATH}:9: SVG image 'names.svg' names another image: image 'pictures/huge.png' is 12,000 x 12,000 "
        "pixels: at most 40 megapixels can be printed (scale it down; 300 pixels per inch is plenty on paper)",
        f"{PATH}:11: SVG image 'deep.svg' nests its elements more than 100 deep",
        f"{PATH}:13: SVG image 'entities.svg' declares XML entities (<!ENTITY ...>), which are not read",
        f"{PATH}:15: SVG image 'outside.svg' names '../../../secret.png', outside the kit's content/ and "
        "templates/ folders: the build refuses to read it"]
