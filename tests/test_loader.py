"""Loading and validation: every problem of a run, each with its file and line."""
from kit.loader import load_kit
from kit.model import Anecdote, Example, PairActivity, Prompt, Question

from conftest import COURSE_YAML, module


def errors(root):
    return [p.format() for p in load_kit(root).problems.errors]


def test_fixture_loads_into_the_model(make_kit):
    loaded = load_kit(make_kit())
    assert loaded.problems.errors == []
    course = loaded.kit.courses[0]
    assert course.slug == "fixture" and course.title == "Fixture Course"
    session = course.sessions[0]
    assert (session.number, session.slug, session.minutes) == (1, "fixture", 30)
    assert [(s.title, s.kind, s.start, s.end) for s in session.segments] == [
        ("Recap", "recap", 0, 10), ("Pair flip", "pair", 10, 25), ("Wrap-up", "wrap-up", 25, 30)]
    prompt = session.blocks("prompt")[0]
    assert isinstance(prompt, Prompt) and prompt.lines == 3
    assert prompt.answer == "FAC-ANSWER linear in the weights."
    pair = session.blocks("pair")[0]
    assert isinstance(pair, PairActivity) and pair.minutes == 5 and pair.total_minutes == 10
    assert pair.debrief == ("PART-DEBRIEF what was hard?",)
    anecdote = session.blocks("anecdote")[0]
    assert isinstance(anecdote, Anecdote) and anecdote.point.startswith("FAC-POINT")
    assert anecdote.src.line == 54 and anecdote.src.path == "content/fixture/01-fixture.md"
    assert isinstance(session.blocks("example")[0], Example)
    kinds = [b.kind for b in session.blocks("question", "misconception")]
    assert kinds == ["question", "misconception"]
    assert all(isinstance(b, Question) for b in session.blocks("question", "misconception"))
    assert session.prework_minutes == 12 and session.preparation_minutes == 30


def test_timing_overrun_names_the_amount(make_kit):
    body = "## A {minutes=10 kind=recap}\n\nx\n\n## B {minutes=25 kind=discussion}\n\ny\n"
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 30", body)})
    assert errors(root) == ["content/fixture/01-fixture.md:9: the segments add up to 35 minutes "
                            "but the session is 30: the run of show over-runs by 5 minutes"]


def test_timing_underrun_uses_course_default(make_kit):
    root = make_kit({"content/fixture/01-fixture.md": module("title: T", "## A {minutes=80 kind=recap}\n\nx\n")})
    assert "under-runs by 10 minutes" in errors(root)[0]


def test_all_problems_are_reported_at_once_with_lines(make_kit):
    front = "title: T\nminutes: ten\nobjectivs: [x]\nprework:\n  - title: V\n    kind: podcast"
    body = ("## A {minutes=10 kind=talk}\n\n::: anecdot Title\nx\n:::\n\n"
            "::: example E\nproduct: nope\n\nBody\n:::\n\n::: pair\nminutes: five\n\nGo\n:::\n\n"
            "::: note\nunclosed\n")
    root = make_kit({"content/fixture/01-fixture.md": module(front, body)})
    found = errors(root)
    path = "content/fixture/01-fixture.md"
    assert f"{path}:3: 'minutes' must be a whole number, not 'ten'" in found
    assert any(e.startswith(f"{path}:4: unknown key 'objectivs'; valid keys: title, minutes, objectives")
               for e in found)
    assert f"{path}:7: 'prework[1].kind' must be one of video, reading, exercise; not 'podcast'" in found
    assert any(e.startswith(f"{path}:9: segment heading: 'kind' must be one of opening, recap") for e in found)
    assert any(e.startswith(f"{path}:11: unknown block kind 'anecdot'; valid kinds: note, say, anecdote")
               for e in found)
    assert any(e.startswith(f"{path}:15: example names product 'nope'") and "declared products: widget" in e
               for e in found)
    assert f"{path}:22: 'pair' block: 'minutes' must be a whole number, not 'five'" in found
    assert any(e.startswith(f"{path}:27: 'note' block is not closed") for e in found)
    assert f"{path}:9: the segments add up to 10 minutes but the session is 90: " \
           "the run of show under-runs by 80 minutes" in found


def test_bad_yaml_reports_its_line(make_kit):
    root = make_kit({"content/fixture/01-fixture.md": "---\ntitle: T\nobjectives: [a, b\nminutes: 10\n---\n"
                                                      "## A {minutes=10 kind=recap}\n"})
    (err,) = errors(root)
    assert err.startswith("content/fixture/01-fixture.md:") and "invalid YAML" in err
    assert int(err.split(":")[1]) in (3, 4, 5)


def test_course_yaml_unknown_key_lists_valid_ones(make_kit):
    root = make_kit({"content/fixture/course.yaml": COURSE_YAML + "colour: blue\n"})
    (err,) = errors(root)
    assert err == ("content/fixture/course.yaml:10: unknown key 'colour'; valid keys: title, subtitle, "
                   "audience, language, session_minutes, follows, organisation, moves, recovery_minutes")


def test_question_without_answer_and_nested_misuse(make_kit):
    body = ("## A {minutes=10 kind=recap}\n\n::: question\nWhy?\n:::\n\n"
            "::: anecdote T\n\nStory\n\n:::: answer\nNo\n::::\n:::\n\n::: answer\nLoose\n:::\n\n:::\n")
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    found = "\n".join(errors(root))
    assert "needs its answer" in found
    assert "a 'answer' block cannot be inside a 'anecdote' block" in found
    assert "an 'answer' block belongs inside" in found
    assert "':::' closes no open block" in found


def test_code_fences_are_not_structure(make_kit):
    body = "## A {minutes=10 kind=recap}\n\n```\n::: not-a-block\n## not a heading\n```\n"
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    loaded = load_kit(root)
    assert loaded.problems.errors == []
    assert len(loaded.kit.courses[0].sessions[0].segments) == 1


def test_module_names_and_duplicates(make_kit):
    root = make_kit({"content/fixture/1-bad.md": module(), "content/fixture/01-again.md": module()})
    found = "\n".join(errors(root))
    assert "content/fixture/1-bad.md:1: a module's file name must be NN-slug.md" in found
    assert "session number 01 is taken" in found


def test_missing_front_matter(make_kit):
    root = make_kit({"content/fixture/01-fixture.md": "## A {minutes=10 kind=recap}\n"})
    assert errors(root) == ["content/fixture/01-fixture.md:1: a module must start with YAML front matter: "
                            "a line '---', the keys, and another line '---'"]


def test_crlf_and_bom_are_accepted(make_kit):
    from conftest import MODULE
    data = b"\xef\xbb\xbf" + MODULE.replace("\n", "\r\n").encode()
    root = make_kit({"content/fixture/01-fixture.md": data})
    loaded = load_kit(root)
    assert loaded.problems.errors == []
    assert loaded.kit.courses[0].sessions[0].blocks("anecdote")[0].src.line == 54


def test_invalid_utf8_reports_its_line(make_kit):
    root = make_kit({"content/fixture/01-fixture.md": b"---\ntitle: T\n---\nok\nbad \xff byte\n"})
    assert errors(root) == ["content/fixture/01-fixture.md:5: not valid UTF-8 (byte 0xff)"]


def test_block_fields_must_be_known(make_kit):
    body = "## A {minutes=10 kind=recap}\n\n::: anecdote T\npoint: p\nmoral: m\n\nStory\n:::\n"
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    (err,) = errors(root)
    assert err == ("content/fixture/01-fixture.md:9: 'anecdote' block: unknown key 'moral'; "
                   "valid keys: point, source, retell, at, takes")


def test_run_sheet_text_is_bounded(make_kit):
    body = ("## " + "T" * 200 + " {minutes=10 kind=recap}\n\n::: say\n" + "word " * 200 + "\n:::\n")
    root = make_kit({"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    found = errors(root)
    assert "content/fixture/01-fixture.md:5: the segment title is 200 characters long; keep it under 160" in found
    assert any(e.startswith("content/fixture/01-fixture.md:7: the 'say' block is 1000 characters long")
               for e in found)
