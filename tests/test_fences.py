"""One rule for fenced code (kit/fences.py), read the same by the parser, the introduction
and the nesting limit."""
from kit.fences import CodeFences
from kit.markdown import nesting
from kit.parse import build_tree
from kit.views import introduction

TEXT = "intro\n````\n## not a heading\n```\n- - - - not nesting\n````\n## Heading {minutes=5 kind=recap}\n"


def test_a_longer_fence_closes_only_with_its_own_length():
    fences = CodeFences()
    assert [fences.code(line) for line in TEXT.split("\n")] == [False, True, True, True, True, True,
                                                                 False, False]


def test_indented_four_spaces_is_not_a_fence():
    assert CodeFences().code("   ```") and not CodeFences().code("    ```")


def test_parser_introduction_and_nesting_agree_on_what_is_code():
    _, segments = build_tree(TEXT.split("\n"), 1, lambda *a: None)
    assert [s.line for s in segments] == [7]
    intro = introduction(TEXT.replace("## Heading {minutes=5 kind=recap}", "## Real"))
    assert [s.heading for s in intro.sections] == ["", "Real"]
    assert nesting(TEXT)[0] < 4
