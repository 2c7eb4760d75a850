"""The one rule for fenced code in a kit's Markdown: which lines are code, not structure.

A fence is three or more backticks or tildes, indented by at most three spaces; the
code runs to a line that starts (after its indentation) with the same fence. Inside
it, nothing is a block fence (`:::`), a segment heading (`## `), an introduction
heading or a list: the parser, the introduction's sections and the nesting limit
all read code this way.
"""
from __future__ import annotations

import re

CODE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


class CodeFences:
    """Fed a text line by line, says of each line whether it belongs to fenced code
    (an opening or closing fence counts as code)."""

    def __init__(self) -> None:
        self.fence = ""

    def code(self, line: str) -> bool:
        if self.fence:
            if line.strip().startswith(self.fence):
                self.fence = ""
            return True
        match = CODE_RE.match(line)
        if match:
            self.fence = match.group(1)
            return True
        return False
