"""The run of show drawn as a timeline: an SVG string made in Python.

One horizontal bar, one box per segment, each as wide as its share of the
session's minutes. Every kind has its own tint AND its own pattern (dots,
hatching, stripes...), so the bar still reads on a black-and-white printer;
a legend names the kinds and each box carries its segment's number, which is
the number of its row on the run sheet. Times are printed under every
boundary, on two staggered rows where they would collide.

No template logic: the SVG is assembled from numbers computed here, and every
piece of text in it is XML-escaped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence
from xml.sax.saxutils import escape, quoteattr

from kit.i18n import kind_word

WIDTH = 1000.0          # user units across the whole bar (the image is scaled to the column)
BAR_TOP = 4.0
BAR_HEIGHT = 40.0
FONT = "Inter, 'DejaVu Sans', sans-serif"
# In user units. The image is printed as wide as the column, so a user unit is the column's
# width / (WIDTH + 24): 0.465 pt on A4 (168 mm), 0.481 pt on Letter (174 mm). 16.5 units print
# at 7.7 and 7.9 pt, so no label on the run sheet is smaller than 7.5 pt.
FONT_SIZE = 16.5
LABEL_GAP = 10.0        # white space kept between two time labels on one row
LEGEND_SWATCH = 22.0


@dataclass(frozen=True)
class KindStyle:
    label: str
    fill: str      # a tint; different kinds also differ in lightness
    ink: str       # pattern strokes
    pattern: str   # one of PATTERNS


# Each kind: a tint and a pattern. The pattern is what tells kinds apart in grayscale.
STYLES: dict[str, KindStyle] = {
    "opening": KindStyle("Opening", "#d8e6f6", "#3f6a9c", "solid"),
    "recap": KindStyle("Recap", "#e6ddf4", "#5a4391", "dots"),
    "discussion": KindStyle("Discussion", "#fbe2c4", "#9a5a14", "diagonal"),
    "pair": KindStyle("Pair", "#cde9d4", "#22643f", "crosshatch"),
    "activity": KindStyle("Activity", "#f7d3d3", "#9b2c2c", "horizontal"),
    "demo": KindStyle("Demo", "#d3eef1", "#1f6f78", "vertical"),
    "break": KindStyle("Break", "#ffffff", "#8a8a8a", "backslash"),
    "wrap-up": KindStyle("Wrap-up", "#a9b4c2", "#2d3a4a", "grid"),
}
FALLBACK = KindStyle("", "#c8c8c8", "#555555", "solid")  # a kind this table does not know yet
PATTERNS = ("solid", "dots", "diagonal", "crosshatch", "horizontal", "vertical", "backslash", "grid")


def style(kind: str) -> KindStyle:
    found = STYLES.get(kind)
    if found is not None:
        return found
    return KindStyle(kind.replace("-", " ").capitalize(), FALLBACK.fill, FALLBACK.ink, FALLBACK.pattern)


@dataclass(frozen=True)
class Item:
    """One segment as the timeline sees it."""
    title: str
    kind: str
    minutes: int


@dataclass(frozen=True)
class Box:
    number: int      # 1-based, as on the run sheet
    x: float
    width: float
    kind: str
    title: str


def layout(items: Sequence[Item], width: float = WIDTH) -> list[Box]:
    """Each segment's box: x and width in proportion to minutes (0-minute segments are 0 wide)."""
    total = sum(max(item.minutes, 0) for item in items)
    boxes, elapsed = [], 0
    for number, item in enumerate(items, start=1):
        minutes = max(item.minutes, 0)
        x = width * elapsed / total if total else 0.0
        w = width * minutes / total if total else 0.0
        boxes.append(Box(number, x, w, item.kind, item.title))
        elapsed += minutes
    return boxes


def label_extent(x: float, text: str, anchor: str) -> tuple[float, float]:
    """Roughly where a time label's ink lies, left to right (tabular digits ~0.6 em)."""
    width = 0.6 * FONT_SIZE * len(text)
    left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return left, left + width


def label_rows(extents: Sequence[tuple[float, float]], gap: float = LABEL_GAP) -> list[int]:
    """0 or 1 for each label: a label that would touch the previous one on its row drops a row."""
    rows, last = [], [float("-inf"), float("-inf")]
    for left, right in extents:
        row = 0 if left - last[0] >= gap else 1 if left - last[1] >= gap else 0
        rows.append(row)
        last[row] = right
    return rows


def _pattern(kind_id: str, st: KindStyle) -> str:
    """An SVG <pattern> painting `st.pattern` over the kind's tint."""
    ink, size = st.ink, 8
    shapes = {
        "solid": "",
        "dots": f'<circle cx="4" cy="4" r="1.3" fill="{ink}"/>',
        "diagonal": f'<path d="M-2 10L10 -2M-2 2L2 -2M6 10L10 6" stroke="{ink}" stroke-width="1.2"/>',
        "backslash": f'<path d="M-2 -2L10 10M6 -2L10 2M-2 6L2 10" stroke="{ink}" stroke-width="0.9"/>',
        "crosshatch": (f'<path d="M-2 10L10 -2M-2 2L2 -2M6 10L10 6M-2 -2L10 10M6 -2L10 2M-2 6L2 10" '
                       f'stroke="{ink}" stroke-width="0.8"/>'),
        "horizontal": f'<path d="M0 4H8" stroke="{ink}" stroke-width="1.4"/>',
        "vertical": f'<path d="M4 0V8" stroke="{ink}" stroke-width="1.4"/>',
        "grid": f'<path d="M0 4H8M4 0V8" stroke="{ink}" stroke-width="0.8"/>',
    }
    return (f'<pattern id="p-{kind_id}" patternUnits="userSpaceOnUse" width="{size}" height="{size}">'
            f'{shapes[st.pattern]}</pattern>')


def _painted(x: float, y: float, w: float, h: float, kind: str, extra: str = "") -> str:
    """A rectangle in a kind's tint with the kind's pattern over it (no tile seams)."""
    st = style(kind)
    geometry = f'x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}"'
    out = f'<rect {extra}{geometry} fill="{st.fill}"/>'
    if st.pattern != "solid":
        out += f'<rect {geometry} fill="url(#p-{_kind_id(kind)})"/>'
    return out


def _kind_id(kind: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in kind) or "none"


# Characters XML 1.0 cannot hold (most control characters): an author's text that carries
# one would make the whole SVG unreadable.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` as XML character data in an SVG: escaped, and without the characters XML cannot hold."""
    return escape(_NOT_XML.sub("", text))


def xml_attr(text: str) -> str:
    """`text` as a quoted XML attribute value."""
    return quoteattr(_NOT_XML.sub("", text))


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def timeline_svg(items: Sequence[Item], times: Sequence[str], title: str = "") -> str:
    """The timeline as an SVG document.

    `times` are the labels of the len(items) + 1 boundaries: "0:00", "0:10", ... "1:30"
    (or clock times). `title` becomes the SVG's <title>.
    """
    if len(times) != len(items) + 1:
        raise ValueError(f"need {len(items) + 1} time labels, got {len(times)}")
    boxes = layout(items)
    kinds = list(dict.fromkeys(item.kind for item in items))
    bar_bottom = BAR_TOP + BAR_HEIGHT
    xs = [box.x for box in boxes] + [WIDTH]
    anchors = ["start" if x == 0 else "end" if x == WIDTH else "middle" for x in xs]
    rows = label_rows([label_extent(x, t, a) for x, t, a in zip(xs, times, anchors)])
    label_base = bar_bottom + 6 + FONT_SIZE
    legend_top = label_base + (FONT_SIZE + 4) * (max(rows, default=0) + 1) + 4
    height = legend_top + LEGEND_SWATCH * 0.7 + 4

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-12 0 {_num(WIDTH + 24)} {_num(height)}" '
           f'font-family={xml_attr(FONT)} font-size="{_num(FONT_SIZE)}">']
    if title:
        out.append(f"<title>{xml_text(title)}</title>")
    out.append("<defs>" + "".join(_pattern(_kind_id(k), style(k)) for k in kinds if style(k).pattern != "solid")
               + "</defs>")

    for box in boxes:  # the segments
        out.append(_painted(box.x, BAR_TOP, box.width, BAR_HEIGHT, box.kind,
                            f'class="seg" data-kind={xml_attr(box.kind)} data-number="{box.number}" '))
    for box in boxes[1:]:  # white seams between segments, drawn over the boxes
        out.append(f'<path d="M{_num(box.x)} {_num(BAR_TOP)}v{_num(BAR_HEIGHT)}" stroke="#fff" stroke-width="2.5"/>')
    out.append(f'<rect x="0" y="{_num(BAR_TOP)}" width="{_num(WIDTH)}" height="{_num(BAR_HEIGHT)}" '
               'fill="none" stroke="#1a1a1a" stroke-width="1.2"/>')

    for box in boxes:  # the segment numbers, on a white tab so any pattern stays readable
        if box.width < 16:
            continue
        digits = len(str(box.number))
        tab_w, tab_h = 9 + 0.6 * FONT_SIZE * digits, FONT_SIZE + 5
        cx, cy = box.x + box.width / 2, BAR_TOP + BAR_HEIGHT / 2
        out.append(f'<rect x="{_num(cx - tab_w / 2)}" y="{_num(cy - tab_h / 2)}" width="{_num(tab_w)}" '
                   f'height="{_num(tab_h)}" rx="3" fill="#fff" stroke="#1a1a1a" stroke-width="0.6"/>')
        out.append(f'<text class="num" x="{_num(cx)}" y="{_num(cy + FONT_SIZE * 0.36)}" text-anchor="middle" '
                   f'font-weight="700" fill="#1a1a1a">{box.number}</text>')

    for x, label, row, anchor in zip(xs, times, rows, anchors):  # ticks and times
        y = label_base + row * (FONT_SIZE + 4)
        out.append(f'<path d="M{_num(x)} {_num(bar_bottom)}V{_num(y - FONT_SIZE + 1)}" stroke="#1a1a1a" '
                   'stroke-width="0.8"/>')
        out.append(f'<text class="time" x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" '
                   f'fill="#1a1a1a">{xml_text(label)}</text>')

    x = 0.0
    for kind in kinds:  # the legend, in the current language (kit.i18n.using)
        st = style(kind)
        if kind in STYLES:
            word = kind_word(kind)
            st = KindStyle(word[:1].upper() + word[1:], st.fill, st.ink, st.pattern)
        out.append(_painted(x, legend_top, LEGEND_SWATCH, LEGEND_SWATCH * 0.7, kind))
        out.append(f'<rect x="{_num(x)}" y="{_num(legend_top)}" width="{_num(LEGEND_SWATCH)}" '
                   f'height="{_num(LEGEND_SWATCH * 0.7)}" fill="none" stroke="#1a1a1a" stroke-width="0.6"/>')
        out.append(f'<text class="legend" x="{_num(x + LEGEND_SWATCH + 5)}" '
                   f'y="{_num(legend_top + LEGEND_SWATCH * 0.7 - 3)}" fill="#1a1a1a">{xml_text(st.label)}</text>')
        x += LEGEND_SWATCH + 16 + 0.58 * FONT_SIZE * len(st.label)
    out.append("</svg>")
    return "".join(out)
