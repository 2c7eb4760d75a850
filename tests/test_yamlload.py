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
