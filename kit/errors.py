"""Problems found in a kit, and the one exception that carries them.

The core never prints or exits: it collects `Problem`s and raises `KitError`.
The CLI is the one place that turns a `KitError` into a message and exit 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

# Characters a terminal acts on (C0 and C1 controls, DEL) and those that reorder what is
# shown (bidirectional overrides and isolates): never printed raw in a message.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F or char in _BIDI:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return char


def escape_controls(text: str) -> str:
    """`text` with control characters shown as escapes (ESC as \\x1b), so that a message
    quoting a module can neither move the cursor, retitle the terminal nor fake a line."""
    if text.isprintable():
        return text
    return "".join(_escaped(c) for c in text)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    col: int  # 1-based; 0 where no column is known (then none is printed)
    severity: str  # "error" or "warning"
    message: str

    def format(self, with_col: bool = False) -> str:
        """The problem as one line of text, control characters escaped."""
        message = escape_controls(self.message)
        if not self.path:  # a problem of the run itself (a missing folder, an unknown course)
            return f"error: {message}" if with_col else message
        where = f"{escape_controls(self.path)}:{self.line}"
        if with_col:
            if self.col > 0:
                where += f":{self.col}"
            return f"{where}: {self.severity}: {message}"
        prefix = "" if self.severity == "error" else "warning: "
        return f"{where}: {prefix}{message}"

    def as_dict(self) -> dict:
        return {"path": self.path, "line": self.line, "col": self.col or None,
                "severity": self.severity, "message": self.message}


class KitError(Exception):
    """One or more problems that stop a run. `problems` lists them all."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, "error", problems)]
        self.problems = sorted(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class Problems:
    """Collects problems for one run; `raise_if_errors` ends the load phase."""

    def __init__(self, root: Path | None = None):
        self.root = root
        self.items: list[Problem] = []

    def rel(self, path: Path | str) -> str:
        from pathlib import Path  # not at the top: `kit --help` does without it

        path = Path(path)
        if self.root is not None:
            try:
                return str(path.relative_to(self.root))
            except ValueError:
                pass
        return str(path)

    def error(self, path, line: int, message: str, col: int = 0) -> None:
        self.items.append(Problem(self.rel(path), max(line, 1), max(col, 0), "error", message))

    def warning(self, path, line: int, message: str, col: int = 0) -> None:
        self.items.append(Problem(self.rel(path), max(line, 1), max(col, 0), "warning", message))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise KitError(self.errors)
