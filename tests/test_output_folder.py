"""The output folder is untrusted too: it may come with a kit, cache and build record included.

A build deletes only what it made, follows no path the folder names out of it, reads
nothing there but regular files within a size, keeps a second build out, and its cache
knows what it depends on (fonts, libraries) and what it does not (where the kit lies).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kit.build import BuildOptions, build
from kit.engine import CACHE_DIR, Cache
from kit.errors import KitError

from conftest import cached_copy, tiny_kit, write_kit
from kits import TINY_KIT
from test_hardening import opened_during


@pytest.fixture(scope="module")
def tiny_build(shared_builds):
    """The tiny kit (TINY_KIT) built once per test run, by one worker: (kit, output folder).
    Shared with test_hardening: tests take their own copy (built(), cached())."""
    root, out, _ = shared_builds.get(TINY_KIT)
    return root, out


def built(tiny_build, tmp_path: Path):
    """A built kit and output folder of this test's own: a copy of the shared tiny build (its
    cache and build record hold no paths of the kit's, so the copy is as built as the original)."""
    root, out = tiny_build
    return shutil.copytree(root, tmp_path / "kit"), shutil.copytree(out, tmp_path / "out", symlinks=True)


def cached(tiny_build, tmp_path: Path, out: Path | None = None):
    """A copy of the tiny kit, and an output folder holding its shared build's cache only."""
    return cached_copy(*tiny_build, tmp_path, out)


def pdfs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.pdf"))
            if CACHE_DIR not in p.parts}


# --- a build deletes only what it made -------------------------------------------------

def test_a_users_tmp_files_beside_and_below_the_output_survive(tiny_build, tmp_path):
    # The kit, with the cache of its earlier build in it (TINY_KIT has content/fixture/.notes.tmp,
    # so the cache knows that file): the first build writes every output without rendering.
    root, _ = cached(tiny_build, tmp_path, out=tmp_path / "kit")
    theirs = [root / ".notes.tmp", root / "fixture/.notes.tmp", root / "fixture/sessions/.draft.pdf.abcdefgh.tmp",
              root / "notes/deep/.notes.tmp", root / "content/fixture/.notes.tmp"]
    for path in theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine")
    ours = root / "fixture/sessions/.01-fixture-guide.pdf.kit-abcdefgh.tmp"  # what a killed build leaves
    ours.write_text("stale")
    for _ in range(2):  # a build that writes every output, then a no-change one
        build(root, BuildOptions(out=root, jobs=1))  # kit build -o .
    assert all(p.read_text() == "mine" for p in theirs)
    assert not ours.exists()
    assert (root / "fixture/facilitator-guide.pdf").is_file()


# --- the cache and build record name nothing outside, and are read bounded -------------

def test_a_crafted_build_record_makes_the_build_read_nothing_outside(tiny_build, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    root, out = built(tiny_build, tmp_path)
    cache = out / CACHE_DIR
    (record,) = cache.glob("build-*.json")
    data = json.loads(record.read_text())
    data["outputs"] = {str(secret): "0" * 64, "../secret.txt": "0" * 64, "/etc/shadow": "0" * 64, **data["outputs"]}
    record.write_text(json.dumps(data))
    opened = opened_during(build, root, BuildOptions(out=out, jobs=1))
    assert secret.resolve() not in opened and Path("/etc/shadow") not in opened
    assert (out / "fixture/facilitator-guide.pdf").is_file()


def test_cache_entries_that_are_devices_pipes_or_links_are_misses_not_hangs(tiny_build, tmp_path):
    root, out = built(tiny_build, tmp_path)
    cache = out / CACHE_DIR
    entries = sorted(cache.glob("*.pdf"))
    assert len(entries) >= 3
    before = pdfs(out)
    entries[0].unlink()
    entries[0].symlink_to("/dev/zero")
    entries[1].unlink()
    os.mkfifo(entries[1])
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.7 not ours")
    entries[2].unlink()
    entries[2].symlink_to(secret)
    for note in ("anchors.json", "qr.json"):
        (cache / note).unlink()
        (cache / note).symlink_to("/dev/zero")
    (next(cache.glob("build-*.json"))).unlink()  # no short cut: every entry is looked at
    module = root / "content/fixture/01-fixture.md"
    edited = module.read_text().replace("Text.", "Text, edited.")
    assert edited != module.read_text()
    module.write_text(edited)
    opened = opened_during(build, root, BuildOptions(out=out, jobs=1))  # returns: nothing blocked
    assert secret.resolve() not in opened
    assert pdfs(out).keys() == before.keys()


def test_a_cache_folder_that_is_a_link_is_refused_and_nothing_is_written_there(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / CACHE_DIR).symlink_to(elsewhere)
    root = write_kit(tmp_path / "kit")
    with pytest.raises(KitError, match="is a link or a file, not a folder"):
        build(root, BuildOptions(out=out, jobs=1))
    assert list(elsewhere.iterdir()) == []


def test_an_output_folder_that_links_out_is_never_written_through(tiny_build, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root, out = cached(tiny_build, tmp_path)  # every document comes from the cache: straight to writing
    (out / "fixture").symlink_to(elsewhere)
    with pytest.raises(KitError, match="is a link or a file, not a folder"):
        build(root, BuildOptions(out=out, jobs=1))
    assert list(elsewhere.iterdir()) == []


def test_an_output_that_is_a_link_is_replaced_not_written_through(tiny_build, tmp_path):
    root, out = built(tiny_build, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    guide = out / "fixture/facilitator-guide.pdf"
    guide.unlink()
    guide.symlink_to(victim)
    build(root, BuildOptions(out=out, jobs=1))
    assert victim.read_text() == "keep me"
    assert not guide.is_symlink() and guide.read_bytes().startswith(b"%PDF")


def test_a_course_named_content_may_not_write_into_the_kits_content(tmp_path):
    root = write_kit(tmp_path / "kit", course="content")
    before = sorted(root.rglob("*"))
    with pytest.raises(KitError, match="into the kit's content/ folder"):
        build(root, BuildOptions(out=root, jobs=1))
    assert sorted(root.rglob("*")) == before


# --- one build at a time ------------------------------------------------------------------

def test_a_second_build_into_the_same_folder_is_refused_with_a_clear_message(tiny_build, tmp_path):
    root, out = cached(tiny_build, tmp_path)  # no PDF there yet; every document in the cache
    with Cache(out / CACHE_DIR, out):  # as a first build holds it
        with pytest.raises(KitError, match="another kit build is writing into this folder"):
            build(root, BuildOptions(out=out, jobs=1))
    build(root, BuildOptions(out=out, jobs=1))  # and once it is done, the folder is free
    assert (out / "fixture/facilitator-guide.pdf").is_file()


def test_a_build_stopped_by_a_content_error_leaves_no_folder_behind(tmp_path):
    root = write_kit(tmp_path / "kit", {"content/fixture/01-fixture.md": "---\ntitle: [\n---\n"})
    with pytest.raises(KitError):
        build(root, BuildOptions(out=tmp_path / "out", jobs=1))
    assert not (tmp_path / "out").exists()


# --- the cache knows what it depends on -----------------------------------------------------

def test_a_moved_kit_renders_nothing_again(tiny_build, tmp_path):
    built_root, built_out = tiny_build  # built where it lies; copied, with its build inside, to a/kit
    root = shutil.copytree(built_root, tmp_path / "a/kit")
    shutil.copytree(built_out, root / "build", symlinks=True)
    moved = tmp_path / "b/elsewhere/kit"
    moved.parent.mkdir(parents=True)
    shutil.move(str(root), str(moved))
    result = build(moved, BuildOptions(out=moved / "build", jobs=1))
    assert result.rendered == []
    assert (moved / "build/fixture/facilitator-guide.pdf").is_file()


def test_a_font_change_renders_everything_again(tmp_path, monkeypatch):
    """Its kit's figures folder links out of the kit too: the first build, which renders every
    document, is also test_a_folder_linked_out_of_the_kit_...'s case of content/fixture/figures."""
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
                    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
                    f'  <dir>{fonts}</dir>\n  <cachedir>{tmp_path / "fc-cache"}</cachedir>\n</fontconfig>\n')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    root = tiny_kit(tmp_path / "kit")
    outside = link_out_of_the_kit(root, "content/fixture/figures", tmp_path)
    out = tmp_path / "out"
    first: list = []
    opened = opened_during(lambda: first.append(build(root, BuildOptions(out=out, jobs=1))))
    assert not [p for p in opened if outside.resolve() in p.parents], opened  # nothing read through the link
    assert first and first[0].rendered
    assert build(root, BuildOptions(out=out, jobs=1)).rendered == []  # the control: nothing changed
    system_font = next(Path("/usr/share/fonts").rglob("DejaVuSans.ttf"))
    shutil.copy(system_font, fonts / "KitTestSans.ttf")  # as `apt-get install fonts-...` would
    assert len(build(root, BuildOptions(out=out, jobs=1)).rendered) >= 3


def test_the_fingerprint_names_the_libraries_that_decide_the_bytes():
    from kit.fingerprint import library_versions

    versions = library_versions()
    for name in ("pango", "harfbuzz", "harfbuzz-subset", "weasyprint", "fonttools", "pikepdf", "qpdf"):
        assert versions[name] not in ("", "unknown"), name
    import pikepdf

    assert versions["qpdf"] == pikepdf.__libqpdf_version__
    assert versions["pikepdf"] == pikepdf.__version__


# --- processes and signals --------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_build(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    root = write_kit(tmp_path / "kit")
    for i in range(2, 7):  # enough documents to keep two workers busy for a while
        (root / f"content/fixture/0{i}-more.md").write_text((root / "content/fixture/01-fixture.md").read_text())
    process = subprocess.Popen([sys.executable, "-m", "kit", "build", str(root), "-o", str(tmp_path / "out"),
                                "-j", "2", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return process, root


def _wait_for_workers(process: subprocess.Popen, count: int = 2) -> set[int]:
    deadline = time.monotonic() + 60  # a guard against hanging, not a timing assertion
    while time.monotonic() < deadline and process.poll() is None:
        family = _descendants(process.pid)
        if len(family) >= count + 1:  # the fork server and its workers
            return family
        time.sleep(0.05)
    raise AssertionError("the build never started its workers")


def test_workers_die_with_a_killed_build(tmp_path):
    process, _ = _start_build(tmp_path)
    family = _wait_for_workers(process)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.05)
    assert not [p for p in family if _alive(p)], "render workers outlived the build"


def test_sigterm_ends_a_build_like_ctrl_c_without_a_traceback(tmp_path):
    process, _ = _start_build(tmp_path)
    family = _wait_for_workers(process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert b"stopped" in err
    assert not (tmp_path / "out/fixture/facilitator-guide.pdf").exists()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in family):
        time.sleep(0.05)
    assert not [p for p in family if _alive(p)]


# --- a linked folder of the kit is refused before anything in it is read ----------------------

def link_out_of_the_kit(root: Path, folder: str, tmp_path: Path) -> Path:
    """Make the kit's `folder` a link to a folder of secrets outside it; return that folder."""
    outside = tmp_path / "etc"
    outside.mkdir()
    for name in ("shadow", "passwd", "guide.css"):
        (outside / name).write_text(f"SECRET {name}")
    (root / folder).parent.mkdir(parents=True, exist_ok=True)
    (root / folder).symlink_to(outside, target_is_directory=True)
    return outside


# The case of "content/fixture/figures", whose build renders every document, is made by the
# first build of test_a_font_change_renders_everything_again (which has to render everything).
@pytest.mark.parametrize("folder", ["templates"])
def test_a_folder_linked_out_of_the_kit_is_refused_before_any_file_in_it_is_opened(tmp_path, folder):
    root = tiny_kit(tmp_path / "kit")
    outside = link_out_of_the_kit(root, folder, tmp_path)
    opened = opened_during(build, root, BuildOptions(out=tmp_path / "out", jobs=1))
    assert not [p for p in opened if outside.resolve() in p.parents], opened


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("in the way")
    root = write_kit(tmp_path / "kit")
    with pytest.raises(KitError, match="file/out/.kit-cache: cannot write the build: Not a directory"):
        build(root, BuildOptions(out=tmp_path / "file/out", jobs=1))
