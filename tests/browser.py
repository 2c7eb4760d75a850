"""Headless Chromium for the tests that look at served pages (kit preview, kit run)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)")


def chromium(user_dir: Path, *args: str) -> list[str]:
    """The command line of a headless Chromium with its own profile that reaches for nothing
    on the network by itself."""
    return [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={user_dir}", *args]
