"""Reading PDFs back for assertions."""
import re
from pathlib import Path

from pypdf import PdfReader


def norm(text: str) -> str:
    text = re.sub(r"-\s+", "-", text)  # a line may break after a hyphen
    return " ".join(text.split())


# Text already read, by file: (path, inode, size, modification time) -> each page's text.
# Tests read the same built PDF many times, and pypdf's extraction is slow.
_READ: dict[tuple, list[str]] = {}


def pages_text(path: Path) -> list[str]:
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if key not in _READ:
        _READ[key] = [norm(page.extract_text() or "") for page in PdfReader(str(path)).pages]
    return list(_READ[key])


def labelled_texts(path: Path, wanted) -> list[tuple[str, str]]:
    """(page label, text) of the PDF's pages whose label `wanted` accepts, in order: only
    the pages a test looks at are read (pypdf takes about a tenth of a second a page)."""
    reader = PdfReader(str(path))
    return [(label, norm(page.extract_text() or ""))
            for label, page in zip(reader.page_labels, reader.pages) if wanted(label)]


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
