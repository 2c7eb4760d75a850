from pathlib import Path

import pytest

from kit.yamlload import YamlProblem, load_yaml


def test_keys_and_items_remember_their_lines():
    data = load_yaml("a: 1\nb:\n  - x\n  - y\nc: {d: 2}\n", line_offset=10)
    assert data == {"a": 1, "b": ["x", "y"], "c": {"d": 2}}
    assert data.lines == {"a": 11, "b": 12, "c": 15}
    assert data["b"].lines == [13, 14]


def test_syntax_error_has_its_line_with_offset():
    with pytest.raises(YamlProblem) as err:
        load_yaml("a: 1\nb: [unclosed\nc: 3\n", line_offset=1)
    assert err.value.line >= 3
    assert "invalid YAML" in err.value.message


def test_python_tags_are_refused():
    with pytest.raises(YamlProblem) as err:
        load_yaml("a: !!python/object/apply:os.system ['echo hi']\n")
    assert "tag" in err.value.message.lower()


def test_duplicate_keys_are_an_error():
    with pytest.raises(YamlProblem) as err:
        load_yaml("a: 1\nb: 2\na: 3\n")
    assert err.value.line == 3 and "duplicate key 'a'" in err.value.message


def test_alias_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i, name in enumerate("bcdefg"):
        prev = "abcdefg"[i]
        bomb += f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(YamlProblem) as err:
        load_yaml(bomb)
    assert "expands" in err.value.message


def test_deep_nesting_is_refused():
    with pytest.raises(YamlProblem) as err:
        load_yaml("a: " + "[" * 100 + "]" * 100)
    assert "nesting" in err.value.message


def _lines(value):
    """A value with the lines it remembers, for comparing two loaders."""
    if isinstance(value, dict):
        return ("map", value.line, sorted(value.lines.items()), {k: _lines(v) for k, v in value.items()})
    if isinstance(value, list):
        return ("list", value.line, value.lines, [_lines(v) for v in value])
    return (type(value).__name__, value)


SAMPLES = [
    "title: Linear models\nminutes: 90\nobjectives:\n  - Explain why y = w1x1 + w3x3² is linear\n"
    "  - name: nested\n    ok: yes\n",
    "a: &x [1, 2.5, null, ~, 2026-11-24]\nb: *x\nc: |\n  block\n  text\nd: >\n  folded\n",
    "---\nkey: 'quoted: value'\nother: \"esc\\u00e9\"\n...\n",
    "",
]


COURSES = sorted((Path(__file__).resolve().parents[1] / "content").glob("*/course.yaml"))


@pytest.mark.parametrize("text", SAMPLES + [p.read_text(encoding="utf-8") for p in COURSES])
def test_libyaml_and_pure_python_read_the_same_values_and_lines(text):
    from kit import yamlload

    if len(yamlload._LOADERS) < 2:
        pytest.skip("PyYAML without libyaml")
    fast = yamlload._load(text, 3, yamlload._LOADERS[0])
    pure = yamlload._load(text, 3, yamlload._Loader)
    assert _lines(fast) == _lines(pure)


def test_an_error_reads_as_the_pure_python_parser_words_it():
    from kit import yamlload

    text = "a: 1\n  b: 2\n"
    with pytest.raises(YamlProblem) as pure:
        yamlload._load(text, 0, yamlload._Loader)
    with pytest.raises(YamlProblem) as loaded:
        load_yaml(text)
    assert (loaded.value.line, loaded.value.message) == (pure.value.line, pure.value.message)


def test_a_comment_after_a_plain_value_is_found_and_quoted_or_block_text_is_not():
    from kit.yamlload import trailing_comments

    text = ("title: Zinkevich rule #29\n"          # 1: the value loses '#29'
            "quoted: \"rule #29\"\n"               # quoted: kept
            "# a whole-line comment\n"
            "list:\n"
            "  - see rule #4 first\n"             # 5
            "about: >-\n"
            "  folded text keeps #hash and a # sign\n"
            "next: plain#nospace\n")               # no space before '#': not a comment
    assert trailing_comments(text, 1) == [1, 5]


def test_kit_check_warns_where_a_field_would_lose_its_end(tmp_path):
    from click.testing import CliRunner

    from conftest import module, write_kit
    from kit.cli import main

    body = ("## S {minutes=10 kind=pair}\n\n::: pair Explain\na: Explain rule #29\nb: Listen\n\n"
            "Explain it.\n:::\n")
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": module("title: T\nminutes: 10", body)})
    output = CliRunner().invoke(main, ["check", str(root)]).output
    assert "01-fixture.md:8: warning: YAML reads the text after ' #' as a comment" in output
