"""Reading PDFs back for assertions."""
import re
from pathlib import Path

from pypdf import PdfReader


def norm(text: str) -> str:
    text = re.sub(r"-\s+", "-", text)  # a line may break after a hyphen
    return " ".join(text.split())


def pages_text(path: Path) -> list[str]:
    return [norm(page.extract_text() or "") for page in PdfReader(str(path)).pages]


def all_text(path: Path) -> str:
    return " ".join(pages_text(path))
