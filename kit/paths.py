"""Where the bundled kit (content and templates) lives.

In a wheel both are shipped inside the package as `kit/bundled/`; in a source
checkout or an editable install they are the repository's top-level folders.
"""
from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def bundled_root() -> Path:
    """The folder that holds the bundled `content/` and `templates/`."""
    shipped = PACKAGE / "bundled"
    if (shipped / "content").is_dir():
        return shipped
    return PACKAGE.parent


def bundled_templates() -> Path:
    return bundled_root() / "templates"


def find_kit(kit_dir: str | Path | None) -> Path:
    """The kit to use: the given folder, else the current one if it is a kit, else the bundled one."""
    if kit_dir is not None:
        return Path(kit_dir).resolve()
    here = Path.cwd()
    if (here / "content").is_dir():
        return here.resolve()
    return bundled_root()
