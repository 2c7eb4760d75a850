"""Markdown to safe HTML: the one place where author text becomes `Markup`.

Raw HTML in a module is cleaned with an allowlist (nh3): no script, iframe,
object, style or link elements, no event handlers, no javascript: URLs.
`image_sources` and `dropped_html` let the loader check the same text before
anything is rendered: which images it names and what the sanitiser removes.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html import escape as html_escape
from html.parser import HTMLParser

import markdown as _markdown
import nh3
from markupsafe import Markup

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
URL_SCHEMES = {"http", "https", "mailto"}
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
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=None, clean_content_tags=CLEAN_CONTENT_TAGS)


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


def url_scheme(url: str) -> str:
    """The scheme of a URL as a browser reads it (spaces and control characters ignored)."""
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", re.sub(r"[\x00-\x20\x7f]", "", url))
    return match.group(1).lower() if match else ""


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
            elif name in ("href", "src", "action", "formaction", "xlink:href", "data") and value:
                scheme = url_scheme(value)
                if scheme and scheme not in URL_SCHEMES and not (tag == "img" and name == "src"):
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
    fence = ""
    for number, line in enumerate(text.split("\n")):
        stripped = line.lstrip()
        if fence:  # code is not nesting, however far it is indented
            fence = "" if stripped.startswith(fence) else fence
            continue
        if stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
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
