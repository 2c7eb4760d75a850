"""Safe YAML loading that remembers where every key and item stood.

Only PyYAML's safe loaders are used: a `!!python/...` tag is an error, never code.
Documents are read with libyaml's parser when PyYAML has it (about ten times
faster); any problem is then read again by the pure-Python parser, so that an
error reads the same on every machine. Mappings and lists come back as `LineDict` / `LineList`, which carry the line
of each key or item so that a validator can point at the exact line of a bad
value. Size, nesting and alias expansion are bounded.
"""
from __future__ import annotations

import re

import yaml

MAX_DEPTH = 40
MAX_NODES = 20_000
# Every number a kit holds is small (minutes, lines). A longer one is refused before it is
# converted: Python will not turn more than 4,300 digits into an int, and YAML's base-60
# form ('1:2:3:...') would build a number of any size by repeated multiplication.
MAX_NUMBER_CHARS = 30
# What a quoted YAML string can hold through its escapes but no file or page can:
# NUL and lone surrogate halves (which cannot even be encoded as UTF-8).
_NOT_TEXT_RE = re.compile("[\x00\ud800-\udfff]")


class LineDict(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 1
    lines: dict


class LineList(list):
    """A list that knows its own line and the line of each item."""

    line: int = 1
    lines: list


class YamlProblem(Exception):
    def __init__(self, line: int, message: str):
        self.line = line
        self.message = message
        super().__init__(message)


class _Lines:
    """What both loaders add to PyYAML's safe loading: lines, and errors at their line."""

    offset = 0  # added to every line: for YAML that sits inside another file

    def node_line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1 + self.offset

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (YamlProblem, yaml.YAMLError, RecursionError):
            raise
        except Exception:  # noqa: BLE001 - a constructor fails with whatever its conversion raises
            # PyYAML's own constructors fail like this when a value does not fit its tag
            # ('!!int abc', '!!bool maybe', '!!timestamp x'): the kit's error, at its line.
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            value = node.value if isinstance(node.value, str) else None
            value = "this value" if value is None else f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
            raise YamlProblem(self.node_line(node), f"invalid YAML: {value} cannot be read as {tag}") from None


class _Loader(_Lines, yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    if not isinstance(node, yaml.MappingNode):
        raise YamlProblem(loader.node_line(node), "a '!!map' tag on a value that is not a mapping")
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = loader.node_line(node)
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = loader.node_line(key_node)
        try:
            hash(key)
        except TypeError:
            raise YamlProblem(line, "a mapping key must be a plain value") from None
        if key in result:
            raise YamlProblem(line, f"duplicate key '{key}'")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    if not isinstance(node, yaml.SequenceNode):
        raise YamlProblem(loader.node_line(node), "a '!!seq' tag on a value that is not a list")
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = loader.node_line(node)
    result.lines = [loader.node_line(child) for child in node.value]
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    text = node.value if isinstance(node.value, str) else ""
    if len(text) > MAX_NUMBER_CHARS:
        raise YamlProblem(loader.node_line(node),
                          f"a number of {len(text):,} characters is far too long (at most {MAX_NUMBER_CHARS}); "
                          "put it in quotes if it is meant as text")
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


INT_TAG = "tag:yaml.org,2002:int"
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor(INT_TAG, _construct_int)

_LOADERS: tuple[type, ...]
if getattr(yaml, "__with_libyaml__", False):
    class _FastLoader(_Lines, yaml.CSafeLoader):
        """libyaml's parser with the same constructors (and so the same values and lines)."""

    _FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _FastLoader.add_constructor(INT_TAG, _construct_int)
    _LOADERS = (_FastLoader, _Loader)
else:  # pragma: no cover - PyYAML built without libyaml
    _LOADERS = (_Loader,)


def _measure(node: yaml.Node, offset: int) -> None:
    """Refuse documents nested too deep or that expand (through aliases) too far."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlProblem(n.start_mark.line + 1 + offset, f"nesting deeper than {MAX_DEPTH} levels")
        if id(n) in sizes:
            return sizes[id(n)]
        sizes[id(n)] = MAX_NODES + 1  # a node met again while measuring it: a cycle
        total = 1
        found = _NOT_TEXT_RE.search(n.value) if isinstance(n, yaml.ScalarNode) and isinstance(n.value, str) else None
        if found:
            raise YamlProblem(n.start_mark.line + 1 + offset,
                              f"the text holds the character U+{ord(found.group(0)):04X} (written as an escape such "
                              "as '\\0' or '\\ud800'), which cannot be printed")
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [c for pair in n.value for c in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise YamlProblem(n.start_mark.line + 1 + offset,
                                  f"the YAML expands to more than {MAX_NODES} values (aliases?)")
        sizes[id(n)] = total
        return total

    size(node, 0)


def _check_depth(text: str, offset: int, parser=yaml.SafeLoader) -> None:
    """Refuse deep nesting from the event stream, before the (recursive) composer sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=parser):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 1
                raise YamlProblem(line + offset, f"nesting deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _tag_name(problem: str) -> str:
    """'... for the tag 'tag:yaml.org,2002:python/object'' -> '!!python/object'."""
    tag = problem.rsplit("tag", 1)[-1].strip().strip("'\"")
    return "!!" + tag[len(":yaml.org,2002:"):] if tag.startswith(":yaml.org,2002:") else tag


def load_yaml(text: str, line_offset: int = 0):
    """Parse one YAML document. Raises YamlProblem(line, message) on any problem.

    `line_offset` is added to every line, for YAML that sits inside another file.
    """
    if len(_LOADERS) > 1:
        try:
            return _load(text, line_offset, _LOADERS[0])
        except Exception:  # noqa: BLE001 - read again below, for the same message everywhere
            pass
    return _load(text, line_offset, _Loader)


def _load(text: str, line_offset: int, loader_class):
    try:
        _check_depth(text, line_offset, loader_class)
        loader = loader_class(text)
        loader.offset = line_offset
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _measure(node, line_offset)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1) if mark else 1
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if exc.problem and "could not determine a constructor" in exc.problem:
            tag = _tag_name(exc.problem)
            hint = "" if tag.startswith("!!") else "; to start a text with '!', put the text in quotes"
            raise YamlProblem(line + line_offset,
                              f"YAML tag '{tag}' is not allowed: only plain text, numbers, "
                              f"true/false, lists and mappings{hint}") from None
        raise YamlProblem(line + line_offset, f"invalid YAML: {message}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1 + line_offset, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(1 + line_offset, "invalid YAML: nesting too deep") from None


_VALUE_START = re.compile(r"[ \t]*(?:-[ \t]+)*(?:[^\s:#'\"][^:#]*:[ \t]+)?(?:-[ \t]+)*")
_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*[ \t]*$")


def trailing_comments(text: str, first_line: int) -> list[int]:
    """The lines of `text` (YAML) where a plain value is followed by ' #': YAML reads the
    rest of the line as a comment, so 'rule #29' silently becomes 'rule'. Quoted values,
    whole-line comments and the text of block scalars ('>-', '|') are not flagged."""
    found = []
    block_indent = None
    for offset, line in enumerate(text.split("\n")):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                continue
            block_indent = None
        start = _VALUE_START.match(line)
        rest = line[start.end():] if start else line
        if _BLOCK_SCALAR.match(rest):
            block_indent = indent
            continue
        if not rest or rest[0] in "#'\"|>&*!{[%@`":
            continue
        if " #" in rest or "\t#" in rest:
            found.append(first_line + offset)
    return found
