"""Markdown to safe HTML: the one place where author text becomes `Markup`.

Raw HTML in a module is cleaned with an allowlist (nh3): no script, iframe,
object, style or link elements, no event handlers, and no href that the link
rule of kit.links refuses (javascript:, file:, relative addresses...).
`image_sources` and `dropped_html` let the loader check the same text before
anything is rendered: which images it names and what the sanitiser removes.
"""
from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from html import escape as html_escape
from html.parser import HTMLParser

import markdown as _markdown
import nh3
from markupsafe import Markup

from kit.fences import CodeFences
from kit.links import LINK_SCHEMES, allowed_link, url_scheme

ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "ins",
    "mark", "sup", "sub", "small", "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "dl", "dt",
    "dd", "a", "img", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "span",
    "figure", "figcaption", "abbr", "input", "label",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
    "input": {"type", "checked", "disabled"},
    "ol": {"start"},
    "li": {"class"},
    "ul": {"class"},
    "code": {"class"},
    "span": {"class"},
    "label": {"class"},
}
URL_SCHEMES = set(LINK_SCHEMES)  # nh3's schemes are the link rule's (kit.links)
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "pymdownx.tasklist", "pymdownx.betterem",
              "pymdownx.caret", "pymdownx.tilde"]
DROPPED_TAGS = ("script", "iframe", "object", "embed", "style", "link", "form", "frame", "frameset",
                "meta", "base", "svg", "math", "template", "textarea", "button", "select")


@functools.lru_cache(maxsize=1)
def _converter() -> _markdown.Markdown:
    # Building a converter costs about a millisecond; one is reused (reset between texts).
    return _markdown.Markdown(extensions=EXTENSIONS, output_format="html")


CLEAN_CONTENT_TAGS = set(DROPPED_TAGS) - {"svg", "math"} | {"script", "style"}


@functools.lru_cache(maxsize=4096)
def _raw_html(text: str) -> str:
    """Markdown's HTML before sanitising: author HTML passes through it untouched."""
    return _converter().reset().convert(text)


@functools.lru_cache(maxsize=4096)
def _render(text: str, inline: bool) -> str:
    try:
        html = _raw_html(text)
    except RecursionError:  # nesting the loader refuses; never a traceback while rendering
        return "<p>" + html_escape(text) + "</p>"
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, attribute_filter=_attribute_filter,
                     url_schemes=URL_SCHEMES, link_rel=None, clean_content_tags=CLEAN_CONTENT_TAGS)


def _only_allowed_links(tag: str, name: str, value: str) -> str | None:
    """nh3's attribute filter: an href the link rule refuses is dropped (the text stays).

    nh3 alone lets relative addresses through, which the PDF engine would turn into
    file: links; this holds even for text that no check of the loader looked at."""
    if name == "href" and not allowed_link(value):
        return None
    return value


def _attribute_filter(tag: str, name: str, value: str) -> str | None:
    """What nh3 keeps of each attribute: table spans within SPAN_LIMITS, only the classes
    Markdown itself writes (the templates' classes would let text nest flex boxes, whose
    layout time grows exponentially with their depth), then the link rule."""
    if tag in ("td", "th") and name in SPAN_LIMITS:
        return clamped_span(name, value)
    if name == "class":
        return " ".join(c for c in value.split() if MARKDOWN_CLASS_RE.fullmatch(c)) or None
    return _only_allowed_links(tag, name, value)


def render_markdown(text: str, inline: bool = False) -> Markup:
    """Author Markdown -> sanitised HTML, marked safe for Jinja. `inline` drops the <p>."""
    if not text:
        return Markup("")
    return Markup(_render(text, inline))


# --- looking at author HTML before it is rendered ----------------------------------

class _Tags(HTMLParser):
    """Every start tag with its attributes (entities decoded)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


@functools.lru_cache(maxsize=4096)
def html_tags(text: str) -> tuple:
    """The start tags, with their attributes, of the text's HTML before sanitising."""
    return tuple(_Tags(_raw_html(text)).tags)


def _may_link(text: str) -> bool:
    return bool(text) and ("<" in text or "](" in text or "]:" in text)


def link_targets(text: str) -> list[str | None]:
    """The address of every link the text makes, as the PDF engine would read it: Markdown
    links, reference links and autolinks, and raw <a href>; None for an <a href> without value."""
    if not _may_link(text):
        return []
    return [value for tag, attrs in html_tags(text) if tag == "a" for name, value in attrs if name == "href"]


def links_lost(text: str) -> int:
    """How many links lose their address in the sanitiser for a reason `link_targets` did
    not show (the sanitiser's HTML parser reading the text otherwise): 0 when none do."""
    if not _may_link(text):
        return 0
    expected = 0  # <a> elements that should come out without an href
    for tag, attrs in html_tags(text):
        if tag == "a":
            hrefs = [value for name, value in attrs if name == "href"]
            expected += not hrefs or not allowed_link(hrefs[0])
    rendered = _Tags(_render(text, False)).tags
    bare = sum(1 for tag, attrs in rendered if tag == "a" and not any(name == "href" for name, _ in attrs))
    return max(bare - expected, 0)


def image_sources(text: str) -> list[str]:
    """Every image URL the text names: what survives sanitising (so what the PDF
    engine would fetch) and what the sanitiser would silently drop (file:, data:)."""
    if not text or "<" not in text and "![" not in text and "]:" not in text:
        return []
    found: list[str] = []
    for tags in (html_tags(text), _Tags(_render(text, False)).tags):
        for tag, attrs in tags:
            if tag == "img":
                src = dict(attrs).get("src")
                if src is not None and src.strip() and src not in found:
                    found.append(src)
    return found


@dataclass(frozen=True)
class Dropped:
    """Something the sanitiser removes; `needle` is source text that locates it."""
    needle: str
    message: str


def dropped_html(text: str) -> list[Dropped]:
    """What the sanitiser removes from the author's raw HTML, to warn about it.

    Only HTML the author wrote counts: tags Markdown makes itself (a '#' heading's
    <h1>) are not reported. Image URLs are the loader's business, not listed here.
    """
    if not text or "<" not in text and ":" not in text:
        return []
    found: list[Dropped] = []

    def add(needle: str, message: str) -> None:
        if Dropped(needle, message) not in found:
            found.append(Dropped(needle, message))

    for tag, attrs in html_tags(text):
        if tag not in ALLOWED_TAGS and re.search(rf"<\s*{re.escape(tag)}\b", text, re.I):
            if tag in CLEAN_CONTENT_TAGS:
                add(f"<{tag}", f"raw HTML <{tag}> is removed with its content by the sanitiser")
            else:
                add(f"<{tag}", f"raw HTML <{tag}> is not allowed; the sanitiser removes the tag "
                               "and keeps its text")
        for name, value in attrs:
            if name.startswith("on"):
                add(f"{name}=", f"event handler '{name}' on <{tag}> is removed by the sanitiser")
            elif name == "style":
                add("style=", f"style attribute on <{tag}> is removed by the sanitiser; "
                             "styles belong in the kit's templates/")
            elif name == "class" and value and any(not MARKDOWN_CLASS_RE.fullmatch(c) for c in value.split()):
                add("class=", f"class attribute on <{tag}> is removed by the sanitiser; styles belong "
                              "in the kit's templates/")
            elif tag in ("td", "th") and name in SPAN_LIMITS and value:
                wanted, limit = html_integer(value), SPAN_LIMITS[name]
                if wanted is not None and wanted > limit:
                    shown = value.strip() if len(value.strip()) <= 12 else value.strip()[:9] + "..."
                    add(value.strip()[:40], f"{name}=\"{shown}\" on <{tag}> is more than {limit}: the cell "
                                            f"spans {limit} {'columns' if name == 'colspan' else 'rows'}")
            elif name in ("href", "src", "action", "formaction", "xlink:href", "data") and value:
                scheme = url_scheme(value)
                # Images and links have their own rules, reported as errors by the loader.
                if scheme and scheme not in URL_SCHEMES and (tag, name) not in (("img", "src"), ("a", "href")):
                    add(value.strip()[:40] or name,
                        f"{scheme}: URL in <{tag} {name}> is removed by the sanitiser")
    return found


# --- input that would make Markdown slow or recurse too deeply ----------------------

MAX_NESTING = 60  # lists and quotes inside each other; Python-Markdown recurses per level
MAX_BRACKET_WORK = 1_000_000  # bracket_work() of one text: about a tenth of a second of Markdown
CONTAINER_RE = re.compile(r"[ \t]*(?:[-*+>]|\d{1,9}[.)])(?:[ \t]+|$)")


def nesting(text: str) -> tuple[int, int]:
    """(deepest nesting of lists and quotes, its 0-based line) — measured on the lines' starts."""
    deepest, where = 0, 0
    fences = CodeFences()
    for number, line in enumerate(text.split("\n")):
        if fences.code(line):  # code is not nesting
            continue
        expanded = line.expandtabs(4)
        indent = len(expanded) - len(expanded.lstrip(" "))
        markers, pos = 0, 0
        while match := CONTAINER_RE.match(line, pos):
            if match.end() == pos:
                break
            markers, pos = markers + 1, match.end()
        depth = indent // 2 + markers
        if depth > deepest:
            deepest, where = depth, number
    return deepest, where


def bracket_work(text: str) -> int:
    """About how many characters Markdown scans looking for closing brackets.

    Python-Markdown looks for the ']' of every '[', the ')' after every '](' and the
    '>' of every tag-like '<' by scanning forward, so text full of brackets that
    close far away (or never) costs time that grows with the square of its length.
    Counted here in one pass: the distance from each opening to its closing (or the end).
    """
    n = len(text)
    if "[" not in text and "<" not in text:
        return 0
    work = 0
    next_gt = n
    for i in range(n - 1, -1, -1):  # every '<' that may open a tag, to the next '>'
        ch = text[i]
        if ch == ">":
            next_gt = i
        elif ch == "<" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] in "/!?"):
            work += next_gt - i
    squares: list[int] = []
    parens: list[int] = []
    for i, ch in enumerate(text):
        if ch == "[":
            squares.append(i)
        elif ch == "]" and squares:
            work += i - squares.pop()
            if i + 1 < n and text[i + 1] == "(":
                parens.append(i + 1)
        elif ch == "(" and parens and parens[-1] != i:
            parens.append(i)
        elif ch == ")" and parens:
            work += i - parens.pop()
    return work + sum(n - i for i in squares) + sum(n - i for i in parens)


# --- what the PDF engine lays out: nesting depth and table spans --------------------

# WeasyPrint lays boxes out recursively, several Python frames for each element inside
# another: about 130 block elements deep (fewer inside a table) exhaust Python's stack.
# The templates put author text about ten elements deep; this leaves a wide margin.
MAX_HTML_DEPTH = 40
# HTML allows colspan up to 1000 and rowspan up to 65534; the PDF engine's table
# layout grows with columns x rows spanned, and no printed page needs more than this.
SPAN_LIMITS = {"colspan": 20, "rowspan": 100}
# Cells of one table's grid (columns x rows, spans included): the engine's table layout
# holds the whole grid, so a few cells that span far cost as much as a huge table.
MAX_TABLE_CELLS = 10_000
# Elements made from the text of one file (a module: a session's guide). The bundled
# sessions make about 200; WeasyPrint takes about 2 s a thousand in a short document and
# 7 s in a long one (24,000 paragraphs: nearly three minutes and 700 MiB).
MAX_ELEMENTS = 5_000
# The classes Markdown's extensions write (task lists, fenced code's language); no other
# class survives the sanitiser.
MARKDOWN_CLASS_RE = re.compile(r"task-list(?:-item|-control|-indicator)?|language-[A-Za-z0-9_+#.-]{1,40}")

_HTML_INTEGER_RE = re.compile(r"[\t\n\f\r ]*([+-]?)([0-9]+)")
_SANITISED_TAG_RE = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[^>"]|"[^"]*")*>')
_RAW_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)")
_START_TAG_RE = re.compile(r"<[a-zA-Z]")
# Text without any of these is one paragraph and nothing else (titles, kinds, most fields):
# it need not be rendered to know its shape.
_SYNTAX_RE = re.compile(r"[\n*_~^\[<>`|#+!\\&-]|\d[.)]|^\s")
_EMPHASIS_RUN_RE = re.compile(r"([*_~^])\1*")
_TABLE_RULE_RE = re.compile(r":?-+:?")
_FENCE_INFO_RE = re.compile(r"\{[^\n]*\}|\.?[\w#.+-]*(?: +hl_lines=(\"|')[^\"']*\1)?")
_LIST_ITEM_RE = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]")
# Emphasis marks open at once in a paragraph (open_emphasis) past which the text is not
# even rendered: about a tenth of a second of Markdown. Below it, the rendered depth decides.
MAX_OPEN_EMPHASIS = 2_000
# Paragraphs and list items of one text past which it is not rendered (text_blocks): twice
# what a whole file may make (MAX_ELEMENTS), since the count is a rough lower bound.
MAX_TEXT_BLOCKS = 10_000
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                       "param", "source", "track", "wbr"})
# Elements whose end tag may be left out: opening another one closes the first, so
# written one after another they do not nest (and they always sit in a counted parent).
OPTIONAL_END_TAGS = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot",
                               "option", "optgroup", "rb", "rt", "rtc", "rp", "colgroup", "caption"})


def html_integer(value: str | None) -> int | None:
    """An integer attribute as the PDF engine reads it (leading digits; '1e5' is 1).
    Anything past nine digits counts as 10**9, so no huge number is ever made."""
    match = _HTML_INTEGER_RE.match(value or "")
    if not match:
        return None
    digits = match.group(2).lstrip("0") or "0"
    number = int(digits) if len(digits) <= 9 else 10**9
    return -number if match.group(1) == "-" else number


def clamped_span(name: str, value: str | None) -> str | None:
    """A td/th colspan or rowspan brought within SPAN_LIMITS; None drops an unreadable one."""
    number, limit = html_integer(value), SPAN_LIMITS[name]
    if number is None:
        return None
    if name == "rowspan" and number <= 0:  # 'to the end of its row group': at most the limit
        return str(limit)
    return str(min(max(number, 1), limit))


def html_depth(html: str) -> int:
    """How deep elements nest in sanitised HTML (well formed: every element is closed)."""
    depth = deepest = 0
    for match in _SANITISED_TAG_RE.finditer(html):
        if match.group(2).lower() in VOID_TAGS:
            continue
        if match.group(1):
            depth -= 1
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def markup_depth(text: str) -> int:
    """How deep the elements of the text's HTML nest, as rendered (Markdown, then sanitised)."""
    return html_depth(_render(text, False)) if text else 0


def tag_nesting(text: str) -> tuple[int, int]:
    """(deepest nesting of the raw HTML tags the author wrote, its 0-based line).

    Read from the source in one pass, before Markdown or the sanitiser see the text
    (the sanitiser's parser slows down with the square of a deep nesting). Code is
    skipped; elements whose end tag may be left out (li, td, p...) are not counted;
    a tag left open counts as open until the end of the text.
    """
    deepest, where, depth = 0, 0, 0
    for number, line in _prose_lines(text):
        if "<" not in line:
            continue
        for match in _RAW_TAG_RE.finditer(_code_spans_out(line)):
            name = match.group(2).lower()
            if name in VOID_TAGS or name in OPTIONAL_END_TAGS:
                continue
            if match.group(1):
                depth = max(depth - 1, 0)
            else:
                depth += 1
                if depth > deepest:
                    deepest, where = depth, number
    return deepest, where


def first_line(text: str, bad) -> int:
    """The 0-based line of the text from which its sanitised HTML is `bad(html)`: the
    fewest first lines that, rendered alone, are (a few renderings, by bisection; for a
    long text, whose renderings take a while, its first line)."""
    if len(text) > 100_000:
        return 0
    lines = text.split("\n")
    low, high = 0, len(lines) - 1
    while low < high:
        middle = (low + high) // 2
        if bad(_render("\n".join(lines[: middle + 1]), False)):
            high = middle
        else:
            low = middle + 1
    return low


def element_count(text: str) -> int:
    """How many elements the text's HTML has, as rendered (Markdown, then sanitised)."""
    if not text or not _SYNTAX_RE.search(text):
        return 1 if text.strip() else 0
    return len(_START_TAG_RE.findall(_render(text, False)))


def _code_spans_out(line: str) -> str:
    """The line without what stands between two backticks (code spans), roughly."""
    if "`" not in line:
        return line
    parts = line.split("`")
    return "".join(parts[::2] + (parts[-1:] if len(parts) % 2 == 0 else []))  # a lone one opens no span


def _fence(line: str) -> str:
    """The fence a line opens a fenced code block with ('```', '~~~~'...), as Python-Markdown
    reads one (at the start of the line, with at most a language or {attributes}); else ''."""
    if not line.startswith(("```", "~~~")):
        return ""
    fence = line[: len(line) - len(line.lstrip(line[0]))]
    info = line[len(fence):].strip(" ")
    return fence if not info or _FENCE_INFO_RE.fullmatch(info) else ""


def _prose_lines(text: str):
    """(0-based line, line) of the text outside fenced code blocks; a blank line comes as ''.

    A fence counts only when a closing one follows, as Markdown counts it: an unclosed
    fence is read as text, so it cannot hide what follows it from these checks.
    """
    lines = text.split("\n")
    closing: dict[str, list[int]] = {}  # a fence -> the lines that could close it
    for number, line in enumerate(lines):
        if line.startswith(("```", "~~~")):
            closing.setdefault(line.rstrip(" "), []).append(number)
    number = 0
    while number < len(lines):
        line = lines[number]
        fence = _fence(line)
        if fence:
            after = closing.get(fence, [])
            index = bisect.bisect_right(after, number)
            if index < len(after):
                number = after[index] + 1
                continue
        yield number, line if line.strip() else ""
        number += 1


def text_blocks(text: str) -> tuple[int, int]:
    """(how many paragraphs and list items the text has at least, the 0-based line where the
    count passed MAX_TEXT_BLOCKS; else 0), counted on the source, each one element at least."""
    count, blank = 0, True
    for number, line in _prose_lines(text):
        content = line.lstrip(" \t>")
        if not content.strip():
            blank = True
            continue
        if blank or _LIST_ITEM_RE.match(content):
            count += 1
            if count > MAX_TEXT_BLOCKS:
                return count, number
        blank = False
    return count, 0


def open_emphasis(text: str) -> tuple[int, int]:
    """(most emphasis marks open at once in one paragraph, its 0-based line): a bound on how
    deep Markdown nests emphasis, read without Markdown, which takes time that grows with
    the square of that depth (minutes for 1 MiB of '*').

    A run of '*', '_', '~' or '^' followed by a non-space opens as many marks as it is
    long; preceded by a non-space, it first closes those of its kind that are open.
    """
    most, where = 0, 0
    stack: list[list] = []  # [mark, count], innermost last
    total = 0
    for number, line in _prose_lines(text):
        if not line:
            stack, total = [], 0  # a paragraph ends
            continue
        line = _code_spans_out(line)
        for match in _EMPHASIS_RUN_RE.finditer(line):
            start, end = match.span()
            run, mark = end - start, match.group(1)
            before = line[start - 1] if start else " "
            after = line[end] if end < len(line) else " "
            if not before.isspace() and stack and stack[-1][0] == mark:
                closed = min(run, stack[-1][1])
                stack[-1][1] -= closed
                total -= closed
                if not stack[-1][1]:
                    stack.pop()
            elif not after.isspace():
                stack.append([mark, run])
                total += run
                if total > most:
                    most, where = total, number
    return most, where


def pipe_table(text: str) -> tuple[int, int, int] | None:
    """(columns, rows, 0-based line) of the first Markdown table of more than MAX_TABLE_CELLS
    cells: Markdown fills every row out to the header's columns, so a wide header over
    many short rows makes a huge table from little text. None when there is none."""
    columns, rows, where = 0, 0, 0
    for number, line in _prose_lines(text):
        line = line.lstrip(" \t>")  # a table may stand in a quote
        if not line.strip():
            columns = 0
        elif columns:
            rows += 1
            if columns * rows > MAX_TABLE_CELLS:
                return columns, rows, where
        elif "|" in line and "-" in line:
            cells = line.strip().strip("|").split("|")
            if all(_TABLE_RULE_RE.fullmatch(cell.strip()) for cell in cells):
                columns, rows, where = len(cells), 1, number  # the header row and the rule
    return None


def layout_problem(text: str) -> tuple[int, str] | None:
    """(0-based line, message) when the text's HTML would nest deeper than MAX_HTML_DEPTH
    or hold a table of more than MAX_TABLE_CELLS cells. What Markdown and the sanitiser
    would take long over (the author's raw tags, emphasis marks, Markdown tables) is
    measured on the source first, so that it is never rendered."""
    if not _SYNTAX_RE.search(text):
        return None
    raw, line = tag_nesting(text)
    if raw > MAX_HTML_DEPTH:
        return line, (f"raw HTML elements nested {raw} deep (or left open without their end tag): "
                      f"at most {MAX_HTML_DEPTH} can be printed")
    marks, line = open_emphasis(text)
    if marks > MAX_OPEN_EMPHASIS:
        return line, (f"{marks:,} emphasis marks ('*', '_', '~', '^') are open at once in one paragraph, "
                      f"more than the {MAX_OPEN_EMPHASIS:,} read: Markdown could nest them far deeper than the "
                      f"{MAX_HTML_DEPTH} levels that can be printed (write a literal one as \\*)")
    blocks, line = text_blocks(text)
    if blocks > MAX_TEXT_BLOCKS:
        return line, (f"the text has more than {MAX_TEXT_BLOCKS:,} paragraphs and list items: a file may make "
                      f"at most {MAX_ELEMENTS:,} HTML elements, which already take minutes to print; split it "
                      "into several sessions")
    table = pipe_table(text)
    if table:
        return table[2], (f"a Markdown table here is at least {table[0]:,} columns by {table[1]:,} rows "
                          f"(every row gets the header's columns): at most {MAX_TABLE_CELLS:,} cells can be "
                          "printed")
    html = _render(text, False)
    deep = html_depth(html)
    if deep > MAX_HTML_DEPTH:
        message = (f"the text's elements are nested {deep} deep (emphasis, lists, quotes, tables or HTML "
                   f"inside one another): at most {MAX_HTML_DEPTH} can be printed")
        return first_line(text, lambda part: html_depth(part) > MAX_HTML_DEPTH), message
    grid = oversized_table(html)
    if grid:
        message = (f"a table here is at least {grid[0]:,} columns by {grid[1]:,} rows (cells that span "
                   f"rows push the cells below them to the right): at most {MAX_TABLE_CELLS:,} cells can be "
                   "printed")
        return first_line(text, lambda part: oversized_table(part) is not None), message
    return None


_TABLE_TAG_RE = re.compile(r'<(/?)(table|thead|tbody|tfoot|tr|td|th)\b((?:[^>"]|"[^"]*")*)>')
_SPAN_ATTR_RE = re.compile(r'\b(colspan|rowspan)="([^"]*)"')


def oversized_table(html: str, most: int = MAX_TABLE_CELLS) -> tuple[int, int] | None:
    """(columns, rows) of the first table of sanitised HTML whose grid has more than `most`
    cells; None when none has.

    Cells are placed as the PDF engine places them: each in the first column not taken
    by a cell spanning down from a row above, a rowspan ending with its row group. So
    a few cells that span many rows push the cells below them far to the right. Each
    row's taken columns are kept as the bits of an int, and a table is given up on as
    soon as it is too large, so the work stays within the limit.
    """
    stack: list[dict] = []  # the open tables, innermost last
    for match in _TABLE_TAG_RE.finditer(html):
        closing, tag = match.group(1), match.group(2)
        if tag == "table":
            if not closing:
                stack.append({"width": 0, "height": 0, "below": [], "taken": 0, "x": 0})
            elif stack:
                stack.pop()
            continue
        if not stack or closing:
            continue
        table = stack[-1]
        if tag in ("thead", "tbody", "tfoot"):
            table["below"] = []  # no span reaches into another row group
        elif tag == "tr":
            table["height"] += 1
            table["taken"] = table["below"].pop(0) if table["below"] else 0
            table["x"] = 0
        else:  # a cell
            spans = dict(_SPAN_ATTR_RE.findall(match.group(3)))
            colspan = max(html_integer(spans.get("colspan")) or 1, 1)
            rowspan = html_integer(spans.get("rowspan"))
            rowspan = 1 if rowspan is None else rowspan
            free = ~(table["taken"] >> table["x"])
            x = table["x"] + (free & -free).bit_length() - 1  # the first free column from x on
            end = x + colspan
            if rowspan != 1:  # 0 or less: to the end of the row group
                rows = rowspan - 1 if rowspan > 0 else SPAN_LIMITS["rowspan"]
                below = table["below"]
                below.extend([0] * (rows - len(below)))
                mask = ((1 << colspan) - 1) << x
                for index in range(rows):
                    below[index] |= mask
            table["x"] = end
            table["width"] = max(table["width"], end)
        if table["width"] * max(table["height"], 1) > most:
            return table["width"], table["height"]
    return None
