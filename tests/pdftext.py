"""Reading PDFs back for assertions."""
import re
import subprocess
from pathlib import Path

import pikepdf


def norm(text: str) -> str:
    text = re.sub(r"-\s+", "-", text)  # a line may break after a hyphen
    return " ".join(text.split())


# Text already read, by file: (path, inode, size, modification time) -> each page's text.
# Tests read the same built PDF many times.
_READ: dict[tuple, list[str]] = {}


def file_key(path) -> tuple:
    stat = Path(path).stat()
    return str(Path(path).resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns


def raw_pages_text(path) -> list[str]:
    """Each page's text as poppler's pdftotext extracts it, in the order the PDF draws it
    (`-raw`), not normalised. pdftotext is in the test command's system packages; it reads
    a file about ten times as fast as pypdf did, with the same words."""
    key = file_key(path)
    if key not in _READ:
        out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
                             capture_output=True, check=True).stdout.decode()
        _READ[key] = out.split("\f")[:-1]  # each page ends with a form feed
    return list(_READ[key])


def pages_text(path: Path) -> list[str]:
    return [norm(text) for text in raw_pages_text(path)]


def page_labels(path) -> list[str]:
    """Each page's label, as a viewer shows it ("3-2", "i"...)."""
    with pikepdf.open(path) as pdf:
        return [page.label for page in pdf.pages]


def labelled_texts(path: Path, wanted) -> list[tuple[str, str]]:
    """(page label, text) of the PDF's pages whose label `wanted` accepts, in order."""
    return [(label, text) for label, text in zip(page_labels(path), pages_text(path)) if wanted(label)]


def all_text(path: Path) -> str:
    return " ".join(pages_text(path))


def pdf_objects(start, keys=None):
    """Every object reachable from `start`, each once (following only `keys` of dictionaries if given)."""
    from pypdf.generic import IndirectObject

    seen, stack = set(), [start]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.idnum in seen:
                continue
            seen.add(obj.idnum)
            obj = obj.get_object()
        yield obj
        if isinstance(obj, dict):
            stack.extend(obj.raw_get(k) for k in obj if keys is None or k in keys)
        elif isinstance(obj, list):
            stack.extend(obj)
