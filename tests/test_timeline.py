"""The run-of-show timeline (kit/timeline.py) and the QR codes (kit/qr.py): geometry and text."""
import base64
import io
import xml.etree.ElementTree as ET

import pytest

from kit import model as m
from kit import qr, timeline
from kit.views import run_of_show, timeline_image

SVG = "{http://www.w3.org/2000/svg}"
ITEMS = [timeline.Item("Welcome", "opening", 10), timeline.Item("Recap", "recap", 5),
         timeline.Item("Pairs", "pair", 15), timeline.Item("Break", "break", 5),
         timeline.Item("Build it", "activity", 50), timeline.Item("Wrap-up", "wrap-up", 5)]
TIMES = ["0:00", "0:10", "0:15", "0:30", "0:35", "1:25", "1:30"]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def segment_rects(root):
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "seg"]


def texts(root, cls):
    return [t.text for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def test_widths_and_positions_are_proportional_to_minutes():
    rects = segment_rects(parse(timeline.timeline_svg(ITEMS, TIMES)))
    assert [r.get("data-kind") for r in rects] == [i.kind for i in ITEMS]
    total = sum(i.minutes for i in ITEMS)
    x = 0.0
    for rect, item in zip(rects, ITEMS):
        assert float(rect.get("width")) == pytest.approx(timeline.WIDTH * item.minutes / total, abs=0.01)
        assert float(rect.get("x")) == pytest.approx(x, abs=0.01)
        x += timeline.WIDTH * item.minutes / total
    assert x == pytest.approx(timeline.WIDTH)
    # The 50-minute box is ten times as wide as each 5-minute one.
    widths = [float(r.get("width")) for r in rects]
    assert widths[4] == pytest.approx(10 * widths[1], abs=0.05)


def test_every_time_segment_number_and_kind_is_labelled():
    root = parse(timeline.timeline_svg(ITEMS, TIMES))
    assert texts(root, "time") == TIMES
    assert texts(root, "num") == [str(n) for n in range(1, len(ITEMS) + 1)]
    assert texts(root, "legend") == ["Opening", "Recap", "Pair", "Break", "Activity", "Wrap-up"]


def test_kinds_differ_in_pattern_not_only_in_colour():
    """Printed in grayscale, a kind is still told apart by its pattern."""
    patterns = [s.pattern for s in timeline.STYLES.values()]
    assert len(set(patterns)) == len(patterns)
    assert set(patterns) <= set(timeline.PATTERNS)
    root = parse(timeline.timeline_svg(ITEMS, TIMES))
    pattern_ids = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    # Every kind but the plain one ("opening") paints its pattern over its tint.
    assert pattern_ids == {f"p-{k}" for k in ("recap", "pair", "break", "activity", "wrap-up")}


def test_close_time_labels_are_staggered_onto_a_second_row():
    items = [timeline.Item("A", "opening", 1), timeline.Item("B", "recap", 1), timeline.Item("C", "pair", 88)]
    root = parse(timeline.timeline_svg(items, ["12:30", "12:31", "12:32", "14:00"]))
    ys = [float(t.get("y")) for t in root.iter(f"{SVG}text") if t.get("class") == "time"]
    assert ys[0] == ys[2] != ys[1]      # 12:31 would collide with 12:30 and 12:32
    assert ys[3] == ys[0]


def test_text_is_escaped_and_the_title_is_kept():
    items = [timeline.Item("<b>&", "discussion", 10)]
    svg = timeline.timeline_svg(items, ["0:00", "0:10"], title='Session 1: "<script>"')
    root = parse(svg)  # well-formed
    assert root.find(f"{SVG}title").text == 'Session 1: "<script>"'
    assert "<script>" not in svg


def test_unknown_kind_and_wrong_number_of_times():
    root = parse(timeline.timeline_svg([timeline.Item("X", "lab-work", 10)], ["0:00", "0:10"]))
    assert texts(root, "legend") == ["Lab work"]
    with pytest.raises(ValueError):
        timeline.timeline_svg(ITEMS, TIMES[:-1])


def session(minutes_kinds) -> m.Session:
    src = m.Source("x.md", 1)
    segs, start = [], 0
    for i, (minutes, kind) in enumerate(minutes_kinds):
        segs.append(m.Segment(f"Segment {i + 1}", kind, minutes, start, (), src))
        start += minutes
    return m.Session(2, "two", "Two", start, (), (), (), (), (), (), "", tuple(segs), src)


def test_timeline_image_of_a_session_with_clock_times():
    s = session([(10, "opening"), (65, "discussion"), (15, "wrap-up")])
    image = timeline_image(s, start_clock=12 * 60 + 30)
    assert image.src.startswith("data:image/svg+xml;base64,")
    root = parse(base64.b64decode(image.src.split(",", 1)[1]).decode())
    assert texts(root, "time") == ["12:30", "12:40", "13:45", "14:00"]
    for i in range(1, 4):
        assert f"{i}. Segment {i}" in image.alt
    # The same rows as the run sheet's, so the numbers on the bar match its rows.
    assert [r.span.split("–")[0] for r in run_of_show(s, 12 * 60 + 30)] == ["12:30", "12:40", "13:45"]


def test_qr_code_is_deterministic_svg():
    url = "https://developers.google.com/machine-learning/crash-course/linear-regression"
    svg = qr.qr_svg(url)
    assert qr._make_svg(url) == svg  # made again, not remembered: the same bytes
    root = parse(svg)
    assert root.tag == f"{SVG}svg" and root.find(f"{SVG}path") is not None
    assert qr.qr_svg(url + "/other") != svg
    assert base64.b64decode(qr.qr_data_url(url).split(",", 1)[1]).decode() == svg


def test_remembered_qr_masks_are_used_and_a_remembered_drawing_never_is():
    url = "https://example.org/remembered-mask"
    qr.remember({url: 5, "https://example.org/drawn": "<svg>another link</svg>", 3: 2,
                 "https://example.org/big": 99})
    svg = qr.qr_svg(url)
    drawings = {}
    for mask in (5, 6):
        code = qr.segno.make(url, error=qr.ERROR_LEVEL, micro=False, boost_error=False, mask=mask)
        buffer = io.BytesIO()
        code.save(buffer, kind="svg", border=qr.QUIET_ZONE, xmldecl=False, nl=False, omitsize=True,
                  svgclass=None, lineclass=None, dark="#000", light="#fff")
        drawings[mask] = buffer.getvalue().decode()
    assert svg == drawings[5] != drawings[6]
    assert qr.made()[url] == 5
    drawn = qr.qr_svg("https://example.org/drawn")
    assert drawn != "<svg>another link</svg>" and drawn.startswith("<svg")
    assert qr.made()["https://example.org/drawn"] in range(8)
