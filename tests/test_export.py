"""`kit export`: the validated model as JSON."""
import json

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.errors import KitError
from kit.export import export_data, export_json
from kit.loader import load_kit
from kit.paths import bundled_root

from conftest import module, write_kit


def assert_matches_model(data: dict, kit) -> None:
    """Every course, session, segment and block of the model is in the JSON, in order."""
    assert [c["slug"] for c in data["courses"]] == [c.slug for c in kit.courses]
    for course_data, course in zip(data["courses"], kit.courses):
        assert course_data["title"] == course.title
        assert [p["id"] for p in course_data["organisation"]["products"]] == \
            [p.id for p in course.organisation.products]
        assert [s["number"] for s in course_data["sessions"]] == [s.number for s in course.sessions]
        for session_data, session in zip(course_data["sessions"], course.sessions):
            assert session_data["id"] == session.id
            assert session_data["src"] == f"{session.src.path}:1"
            assert len(session_data["prework"]) == len(session.prework)
            assert len(session_data["segments"]) == len(session.segments)
            for seg_data, seg in zip(session_data["segments"], session.segments):
                assert (seg_data["kind"], seg_data["start"], seg_data["end"]) == (seg.kind, seg.start, seg.end)
                assert [b["kind"] for b in seg_data["blocks"]] == [b.kind for b in seg.blocks]
                assert [b["src"] for b in seg_data["blocks"]] == [str(b.src) for b in seg.blocks]


def test_fixture_round_trip(tmp_path):
    root = write_kit(tmp_path / "kit")
    text = export_json(root)
    data = json.loads(text)
    kit = load_kit(root).kit
    assert_matches_model(data, kit)
    assert data["format"] == "facilitator-kit/1"
    session = data["courses"][0]["sessions"][0]
    assert [(s["title"], s["start"], s["end"]) for s in session["segments"]] == [
        ("Recap", 0, 10), ("Pair flip", 10, 25), ("Wrap-up", 25, 30)]
    blocks = [b for s in session["segments"] for b in s["blocks"]]
    kinds = [b["kind"] for b in blocks]
    assert kinds == ["talk", "say", "note", "prompt", "pair", "anecdote", "example", "cut",
                     "question", "misconception", "check", "timing"]
    anecdote = blocks[kinds.index("anecdote")]
    assert list(anecdote) == ["kind", "title", "story", "point", "source", "retell", "src"]
    assert anecdote["point"] == "FAC-POINT the point"
    assert anecdote["src"].startswith("content/fixture/01-fixture.md:")
    prompt = blocks[kinds.index("prompt")]
    assert prompt["answer"] == "FAC-ANSWER linear in the weights." and prompt["lines"] == 3
    pair = blocks[kinds.index("pair")]
    assert pair["debrief"] == ["PART-DEBRIEF what was hard?"] and pair["total_minutes"] == 10
    assert export_json(root) == text  # deterministic


def test_errors_stop_the_export(tmp_path):
    root = write_kit(tmp_path / "kit", {
        "content/fixture/01-fixture.md": module("title: T\nminutes: 10", "## A {minutes=12 kind=recap}\n\nx\n")})
    with pytest.raises(KitError, match="add up to 12 minutes"):
        export_data(root)
    result = CliRunner().invoke(main, ["export", str(root), "-o", str(tmp_path / "out.json")])
    assert result.exit_code == 1 and "add up to 12 minutes" in result.output
    assert not (tmp_path / "out.json").exists()


def test_the_bundled_courses_export():
    root = bundled_root()
    data = export_data(root)
    assert_matches_model(data, load_kit(root).kit)
    assert {c["slug"] for c in data["courses"]} == {"ml-for-engineering-teams", "ml-at-scale"}


def test_cli_to_stdout_and_to_a_file(tmp_path):
    root = write_kit(tmp_path / "kit")
    result = CliRunner().invoke(main, ["export", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["courses"][0]["slug"] == "fixture"
    out = tmp_path / "sub/kit.json"
    result = CliRunner().invoke(main, ["export", str(root), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(export_json(root))
