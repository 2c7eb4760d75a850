"""`kit export`: the validated model as JSON, for other tools and learning platforms.

Every dataclass of kit.model becomes an object whose keys follow the order of
its fields (so the output is the same on every run); blocks, segments and
sessions carry their `kind` or computed values (a segment's `end`, a session's
`id`) as well, and every `src` is written as "path:line" relative to the kit.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from kit import __version__, kinds
from kit import model as m
from kit.loader import load_kit

FORMAT = "facilitator-kit/1"

# Computed values worth giving to a reader of the JSON, by class; a block's are declared
# with its kind (kit.kinds: `computed`).
EXTRA = {
    m.Segment: ("end",),
    m.Session: ("id", "planned_minutes", "prework_minutes"),
}


def extra_names(value) -> tuple[str, ...]:
    if type(value) in EXTRA:
        return EXTRA[type(value)]
    kind = kinds.kind_of(value)
    return kind.computed if kind is not None and isinstance(value, kind.model) else ()


def to_data(value):
    """A model value as plain JSON data (dicts, lists, strings, numbers, booleans, None)."""
    if isinstance(value, m.Source):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {}
        kind = getattr(value, "kind", None)
        if isinstance(kind, str):
            data["kind"] = kind
        for f in dataclasses.fields(value):
            data[f.name] = to_data(getattr(value, f.name))
        for name in extra_names(value):
            data[name] = to_data(getattr(value, name))
        return data
    if isinstance(value, (tuple, list)):
        return [to_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_data(v) for k, v in value.items()}
    return value


def export_data(root: Path, course: str | None = None) -> dict:
    """Load and validate the kit (KitError on any error) and return it as JSON data."""
    loaded = load_kit(Path(root), course)
    loaded.problems.raise_if_errors()
    return {"format": FORMAT, "generator": f"kit {__version__}",
            "courses": [to_data(c) for c in loaded.kit.courses]}


def export_json(root: Path, course: str | None = None) -> str:
    return json.dumps(export_data(root, course), ensure_ascii=False, indent=2) + "\n"


def export_to_file(root: Path, out: Path, course: str | None = None) -> Path:
    """Write the export to `out` atomically (nothing is written if the kit has errors)."""
    from kit.edit import write_atomic

    text = export_json(root, course)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, text.encode("utf-8"))
    return out
