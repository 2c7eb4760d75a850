"""A plain wheel ships the bundled courses and templates, so `pip install .` can build them."""
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_contains_content_and_templates(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(tmp_path), str(REPO)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("facilitator_kit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for course in ("ml-for-engineering-teams", "ml-at-scale"):
        assert f"kit/bundled/content/{course}/course.yaml" in names
        assert f"kit/bundled/content/{course}/introduction.md" in names
    for template in (REPO / "templates").iterdir():
        assert f"kit/bundled/templates/{template.name}" in names
    assert "kit/cli.py" in names
    for lang in ("en", "de", "es", "fr"):  # the catalogues, read at run time (kit.i18n)
        assert f"kit/locale/{lang}/LC_MESSAGES/kit.po" in names
    assert not any(name.startswith(("tests/", "kit/bundled/content/.")) for name in names)
