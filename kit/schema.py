"""The allowed keys of every YAML mapping in a kit, and their types.

Validation walks a table, like mdformat's `_conf.py`: each problem (unknown key,
missing key, wrong type, value out of range) is recorded with its file and
line, and validation carries on so that a run reports everything at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from kit.links import link_problem
from kit.yamlload import LineDict, LineList


@dataclass(frozen=True)
class Str:
    required: bool = False
    default: Any = ""
    pattern: str | None = None
    hint: str = ""
    name = "text"


@dataclass(frozen=True)
class Url(Str):
    """Text that is printed as a link: it must pass the link rule (kit.links).
    A refused value is reported and replaced by the default, so it never reaches a page."""
    name = "link"


@dataclass(frozen=True)
class Int:
    required: bool = False
    default: Any = None
    low: int = 1
    high: int = 10_000
    name = "whole number"


@dataclass(frozen=True)
class Bool:
    required: bool = False
    default: Any = False
    name = "true or false"


@dataclass(frozen=True)
class Choice:
    options: tuple
    required: bool = False
    default: Any = None
    name = "choice"


@dataclass(frozen=True)
class Map:
    spec: dict
    required: bool = False
    default: Any = None
    name = "mapping"


@dataclass(frozen=True)
class List:
    item: Any
    required: bool = False
    default: Any = field(default_factory=tuple)
    name = "list"


Report = Callable[[int, str], None]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, int) and value.bit_length() > 300:  # 90 digits and more; str() refuses past 4,300
        return f"a number of about {value.bit_length() * 3 // 10:,} digits"
    if isinstance(value, str) and len(value) > 60:  # a 5,000-digit 'number' is not quoted whole
        return f"'{value[:40]}...' ({len(value):,} characters)"
    return f"'{value}'"


def check_value(value: Any, kind: Any, line: int, what: str, report: Report) -> Any:
    """Return the clean value, or the kind's default after reporting a problem."""
    if isinstance(kind, Str):
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            report(line, f"'{what}' must be text, not {_describe(value)}")
            return kind.default
        text = str(value).strip() if not isinstance(value, str) else value.strip()
        if kind.required and not text:
            report(line, f"'{what}' must not be empty")
        if kind.pattern and text and not re.fullmatch(kind.pattern, text):
            report(line, f"'{what}' '{text}' is not valid{': ' + kind.hint if kind.hint else ''}")
        if isinstance(kind, Url) and text:
            problem = link_problem(text)  # the text as it is printed
            if problem:
                report(line, f"'{what}': {problem}")
                return kind.default
        return text
    if isinstance(kind, Int):
        if isinstance(value, bool) or not isinstance(value, int):
            report(line, f"'{what}' must be a whole number, not {_describe(value)}")
            return kind.default
        if not kind.low <= value <= kind.high:
            report(line, f"'{what}' must be between {kind.low} and {kind.high}, not "
                         f"{value if value.bit_length() <= 300 else _describe(value)}")
            return kind.default
        return value
    if isinstance(kind, Bool):
        if not isinstance(value, bool):
            report(line, f"'{what}' must be true or false, not {_describe(value)}")
            return kind.default
        return value
    if isinstance(kind, Choice):
        if value not in kind.options:
            report(line, f"'{what}' must be one of {', '.join(kind.options)}; not {_describe(value)}")
            return kind.default
        return value
    if isinstance(kind, Map):
        if not isinstance(value, dict):
            report(line, f"'{what}' must be a mapping of keys to values, not {_describe(value)}")
            return check_mapping(LineDict(), kind.spec, line, what, lambda *_: None)
        return check_mapping(value, kind.spec, line, what, report)
    if isinstance(kind, List):
        if value is None:
            return ()
        if not isinstance(value, list):
            report(line, f"'{what}' must be a list, not {_describe(value)}")
            return ()
        lines = getattr(value, "lines", [line] * len(value))
        return tuple(check_value(item, kind.item, item_line, f"{what}[{i + 1}]", report)
                     for i, (item, item_line) in enumerate(zip(value, lines)))
    raise TypeError(kind)  # pragma: no cover - a programming error in a table


def check_mapping(data: dict, spec: Mapping[str, Any], line: int, what: str, report: Report) -> dict:
    """Validate `data` against `spec`; return every key of spec with a clean value."""
    key_lines = getattr(data, "lines", {})
    clean = {}
    for key in data:
        if key not in spec:
            where = f" in '{what}'" if what else ""
            report(key_lines.get(key, line),
                   f"unknown key '{key}'{where}; valid keys: {', '.join(spec) or 'none'}")
    for key, kind in spec.items():
        label = f"{what}.{key}" if what else key
        if key in data:
            clean[key] = check_value(data[key], kind, key_lines.get(key, line), label, report)
        else:
            if kind.required:
                report(line, f"missing required key '{key}'" + (f" in '{what}'" if what else ""))
            default = kind.default
            if isinstance(kind, Map):
                default = check_mapping(LineDict(), kind.spec, line, label, lambda *_: None)
            clean[key] = default
    return clean


def is_lined(value: Any) -> bool:
    return isinstance(value, (LineDict, LineList))


PRODUCT_ID = r"[a-z0-9][a-z0-9-]*"

PRODUCT = {
    "id": Str(required=True, pattern=PRODUCT_ID, hint="lower-case letters, digits and '-'"),
    "name": Str(required=True),
    "about": Str(),
}

ORGANISATION = {
    "name": Str(required=True),
    "about": Str(),
    "fictional": Bool(),
    "products": List(Map(PRODUCT)),
}

# General facilitation moves: what to do in each situation, printed in every session's
# guide (the keys and their printed names are in kit.model.MOVES).
MOVES = {
    "silence": Str(),
    "no_prework": Str(),
    "odd_number": Str(),
    "one_voice": Str(),
    "projector": Str(),
    "collect": Str(),
}

LANGUAGE_RE = r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*"  # BCP 47, as the kit reads it (kit.i18n)

COURSE = {
    "title": Str(required=True),
    "subtitle": Str(),
    "audience": Str(required=True),
    "language": Str(default="en", pattern=LANGUAGE_RE,
                    hint="a language code such as en or en-GB"),
    "session_minutes": Int(default=90, high=600),
    "follows": Str(),
    "organisation": Map(ORGANISATION, required=True),
    "moves": Map(MOVES),
    # Minutes, per 90 minutes of session, that the cuts must be able to recover from a
    # session's midpoint on (kit check warns below it); 0 turns the check off.
    "recovery_minutes": Int(default=10, low=0, high=90),
}

PREWORK = {
    "title": Str(required=True),
    "url": Url(),
    "minutes": Int(high=600),
    "kind": Choice(("video", "reading", "exercise"), required=True),
    "estimate": Bool(),
}

PREPARATION = {
    "task": Str(required=True),
    "minutes": Int(required=True, high=600),
}

RESOURCE = {
    "title": Str(required=True),
    "url": Url(),
}

SESSION = {
    "title": Str(required=True),
    "minutes": Int(high=600),
    "objectives": List(Str()),
    "prework": List(Map(PREWORK)),
    "materials": List(Str()),
    "preparation": List(Map(PREPARATION)),
    "think_about": List(Str()),
    "resources": List(Map(RESOURCE)),
}

# The fields of each kind of block are declared with the kind, in kit.kinds.

SEGMENT_KINDS = ("opening", "recap", "discussion", "pair", "activity", "demo", "break", "wrap-up")
SEGMENT_ATTRS = {"minutes": Int(required=True, high=600), "kind": Choice(SEGMENT_KINDS, required=True)}
