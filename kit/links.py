"""The one rule for the links that reach a PDF or a preview page.

A link is printed only when it is an `https:`, `http:` or `mailto:` URL, or an
anchor in the same document (`#...`). Anything else is refused: `javascript:`
and its cousins would run in the preview's origin or become a PDF action; a
`file:` URL or a relative address (`notes.md`, `//host/x`, `\\\\server\\share`)
would point into the folders of the computer that built the PDF.

`link_problem` is the rule: the loader reports what it returns as an error with
the link's line (Markdown links, reference links, autolinks, raw `<a href>`, and
the URL fields of YAML through `kit.schema.Url`); the Markdown renderer drops
every href it refuses, so a link in text no check looked at is not printed either.

The URL given is the one a browser or the PDF engine would read: HTML entities
already decoded (as an HTML parser hands attribute values over), nothing else.
"""
from __future__ import annotations

import re

from markupsafe import Markup, escape

LINK_SCHEMES = ("https", "http", "mailto")

_SCHEME_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
# What a browser ignores before reading a URL: C0 controls and spaces around it,
# tabs and line breaks anywhere in it.
_AROUND = "".join(chr(c) for c in range(0x21))
_INSIDE_RE = re.compile(r"[\t\n\r]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def url_scheme(url: str) -> str:
    """The scheme of `url` as a browser reads it (lower case; '' when it has none).

    Surrounding spaces and control characters, and tabs and line breaks inside,
    are ignored the way the WHATWG URL parser ignores them, so ` JaVa\\tScript:`
    is read as `javascript`. DEL and other controls stay and break the scheme.
    """
    cleaned = _INSIDE_RE.sub("", url.strip(_AROUND))
    match = _SCHEME_RE.match(cleaned)
    return match.group(1).lower() if match else ""


def _shown(url: str) -> str:
    url = url.strip()
    return url if len(url) <= 100 else url[:97] + "..."


def link_problem(url: str | None) -> str | None:
    """Why `url` may not be printed as a link; None when it may."""
    if url is None or not url.strip():
        return "a link has no address: write its https:// address, or an anchor such as #top"
    shown = _shown(url)
    scheme = url_scheme(url)
    if scheme and scheme not in LINK_SCHEMES:
        return (f"link '{shown}' is a {scheme}: URL; only https:, http: and mailto: links "
                "and #anchors are printed")
    if not scheme and not url.startswith("#"):
        return (f"link '{shown}' is a relative address, which would point into the folders of the "
                "computer that builds the PDF; write the full https:// address (or #anchor)")
    # An allowed scheme (or an anchor) as a browser reads it: the text must say so plainly
    # too, since the PDF engine does not skip what a browser skips.
    if scheme and not url.lower().startswith(scheme + ":"):
        return (f"link '{shown}' has spaces or control characters before or inside its scheme; "
                f"write it as plain {scheme}:...")
    if _CONTROL_RE.search(url):
        return f"link '{shown}' contains a control character (a tab, a line break...)"
    return None


def allowed_link(url: str | None) -> bool:
    """True when `url` may be printed as a link (see `link_problem`)."""
    return link_problem(url) is None


# --- printing a URL as text ------------------------------------------------------------

# Before these a printed URL may break (the character starts the next line)...
URL_BREAK_BEFORE = frozenset("-.?#&=_~%+")
_BREAK = "\u200b"   # ZERO WIDTH SPACE: a break opportunity, nothing on paper
_GLUE = "\u2060"    # WORD JOINER: no break here, nothing on paper


def url_text(url) -> Markup:
    """`url` as the visible text of a printed link: escaped HTML that breaks only where a
    reader cannot mistake the break for a hyphenated word.

    A line may end after a '/' (never inside '//'), or break before one of
    URL_BREAK_BEFORE ('-', '.', '?', '&', '=', '_'...), which then starts the next line;
    it never ends with a '-' of the URL: every '-' is joined to the character after it.
    The breaks are U+200B ZERO WIDTH SPACE and the joins U+2060 WORD JOINER, both
    zero-width. WeasyPrint (Pango) honours both and draws no glyph for them, so the text
    read back from the PDF (pdftotext, pypdf, copy and paste) is the URL alone; an HTML
    page (the preview) keeps them in its text. Only the text changes: the href stays the
    URL itself. Pair it with CSS that adds no hyphen (`hyphens: none`) and does not break
    anywhere (`word-break: normal`, no `overflow-wrap: anywhere`).
    """
    if url is None:
        return Markup("")
    text = url.unescape() if isinstance(url, Markup) else str(url)
    out = []
    for i, char in enumerate(text):
        if i and text[i - 1] == "-":
            out.append(_GLUE)
        elif i and ((text[i - 1] == "/" and char != "/") or char in URL_BREAK_BEFORE):
            out.append(_BREAK)
        out.append(char)
    return Markup(escape("".join(out)))
