"""Markdown to safe HTML: the one place where author text becomes `Markup`.

Raw HTML in a module is cleaned with an allowlist (nh3): no script, iframe,
object, style or link elements, no event handlers, no javascript: URLs.
"""
from __future__ import annotations

import functools

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


@functools.lru_cache(maxsize=4096)
def _render(text: str, inline: bool) -> str:
    html = _converter().reset().convert(text)
    if inline and html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=None,
                     clean_content_tags=set(DROPPED_TAGS) - {"svg", "math"} | {"script", "style"})


def render_markdown(text: str, inline: bool = False) -> Markup:
    """Author Markdown -> sanitised HTML, marked safe for Jinja. `inline` drops the <p>."""
    if not text:
        return Markup("")
    return Markup(_render(text, inline))
