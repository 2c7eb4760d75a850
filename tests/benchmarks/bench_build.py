"""Build benchmark: parallel, incremental builds against WeasyPrint's own single-process time.

Run from the repository root (not part of the default test run):

    .venv/bin/python tests/benchmarks/bench_build.py            # 12 and 48 sessions
    .venv/bin/python tests/benchmarks/bench_build.py --sizes 12 # a quicker look

It generates synthetic courses from the bundled sessions and prints, measured in
the same run, the ratios that issue 6 sets targets for.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kit.paths import bundled_root  # noqa: E402

SOURCE = bundled_root() / "content" / "ml-for-engineering-teams"


def make_course(root: Path, sessions: int) -> Path:
    """A kit with one course of `sessions` modules, cycling through the bundled ones."""
    course = root / "content" / "bench"
    course.mkdir(parents=True)
    shutil.copy(SOURCE / "course.yaml", course / "course.yaml")
    shutil.copy(SOURCE / "introduction.md", course / "introduction.md")
    modules = sorted(SOURCE.glob("[0-9][0-9]-*.md"))
    for i in range(sessions):
        src = modules[i % len(modules)]
        slug = src.name[3:]
        (course / f"{i + 1:02d}-{slug}").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return root


MEASURE = r"""
import json, multiprocessing.forkserver, resource, sys, time
from pathlib import Path
from kit.build import BuildOptions, build
start = time.perf_counter()
result = build(Path(sys.argv[1]), BuildOptions(out=Path(sys.argv[2]), jobs=int(sys.argv[3])))
seconds = time.perf_counter() - start
# The workers are children of multiprocessing's fork server: stop it and wait for it, so
# that its children's peak memory is counted in ours (Linux hands the largest peak up).
server = multiprocessing.forkserver._forkserver
if getattr(server, "_forkserver_pid", None):
    server._stop()
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "rendered": len(result.rendered), "peak_kib": max(own, workers),
                  "own_kib": own, "workers_kib": workers}))
"""


def timed_build(kit: Path, out: Path, jobs: int) -> dict:
    """One build in a fresh process (so peak memory is this build's)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, str(kit), str(out), str(jobs)],
                          capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


RAW = r"""
import json, sys, time
from pathlib import Path
from kit.build import BuildOptions, Planner
from kit.engine import files_digest
from kit.loader import load_kit
from kit.paths import bundled_templates
from weasyprint import CSS, HTML
from kit.pdf import KitFetcher

kit = Path(sys.argv[1]).resolve()
loaded = load_kit(kit)
planner = Planner(kit, BuildOptions(out=Path(sys.argv[2])))
roots = [kit / "content", kit / "templates", bundled_templates()]
course = loaded.kit.courses[0]
guides = [planner.guide_session(course, s) for s in course.sessions]
sheets = [planner.worksheet_session(course, s) for s in course.sessions]
keys = [planner.answer_key(course, s) for s in course.sessions]  # the answer key ending each session's guide
docs = [(d, "guide.css") for d in guides] + [(d, "worksheet.css") for d in sheets + keys]
docs.append((planner.worksheet_front(course), "worksheet.css"))
pages = 0
anchors = {}
start = time.perf_counter()
def render(doc, css):
    fetcher = KitFetcher(roots)
    document = HTML(string=doc.html, base_url=doc.base_url, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=planner.page_css + planner.css[css], base_url=doc.base_url, url_fetcher=fetcher)])
    document.write_pdf(pdf_tags=True)
    return document
for i, (doc, css) in enumerate(docs):
    document = render(doc, css)
    pages += len(document.pages)
    if i < len(guides):
        found = {}
        for n, page in enumerate(document.pages):
            for name in page.anchors:
                found.setdefault(name, n)
        anchors[course.sessions[i].id] = found
front = render(planner.guide_front(course, anchors), "guide.css")
pages += len(front.pages)
print(json.dumps({"seconds": time.perf_counter() - start, "pages": pages}))
"""


def raw_weasyprint(kit: Path, out: Path) -> dict:
    """The same final HTML documents rendered by WeasyPrint, one after another, in one process."""
    done = subprocess.run([sys.executable, "-c", RAW, str(kit), str(out)], capture_output=True,
                          text=True, check=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def edit_one_anecdote(kit: Path) -> None:
    module = sorted((kit / "content" / "bench").glob("01-*.md"))[0]
    text = module.read_text(encoding="utf-8")
    match = re.search(r"^:::+ anecdote .*\n(?:[a-z]+:.*\n)*\n", text, re.M)
    assert match, "no anecdote in the first module"
    text = text[: match.end()] + "(Edited for the benchmark.) " + text[match.end():]
    module.write_text(text, encoding="utf-8")


def best_of(command: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, cwd=REPO)
        times.append(time.perf_counter() - start)
    return min(times)


def measure(sessions: int, jobs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"kit-bench-{sessions}-") as tmp:
        kit = make_course(Path(tmp) / "kit", sessions)
        out = Path(tmp) / "out"
        raw = raw_weasyprint(kit, Path(tmp) / "raw")
        cold = timed_build(kit, out, jobs)
        again = timed_build(kit, out, jobs)
        edit_one_anecdote(kit)
        edited = timed_build(kit, out, jobs)
    return {"sessions": sessions, "raw": raw, "cold": cold, "again": again, "edited": edited}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[12, 48])
    parser.add_argument("-j", "--jobs", type=int, default=0,
                        help="worker processes (default: as `kit build` chooses, which users get)")
    args = parser.parse_args()
    jobs = args.jobs or "as kit build chooses"
    print(f"machine: {os.cpu_count()} cores; jobs: {jobs}; python {sys.version.split()[0]}")
    results = {}
    for size in args.sizes:
        r = measure(size, args.jobs)
        results[size] = r
        cold, raw = r["cold"]["seconds"], r["raw"]["seconds"]
        print(f"\n{size} sessions, {r['raw']['pages']} pages")
        print(f"  raw WeasyPrint, one process:   {raw:7.2f} s")
        print(f"  kit build, cold:               {cold:7.2f} s   ratio {cold / raw:.2f}  (target <= 0.70)")
        print(f"  rebuild, no change:            {r['again']['seconds']:7.2f} s   ratio "
              f"{r['again']['seconds'] / cold:.3f} (target <= 0.05); rendered {r['again']['rendered']}")
        target = 0.25 if size <= 12 else 0.10
        print(f"  rebuild, one anecdote edited:  {r['edited']['seconds']:7.2f} s   ratio "
              f"{r['edited']['seconds'] / cold:.3f} (target <= {target}); rendered {r['edited']['rendered']}")
        print(f"  peak memory (largest process): {r['cold']['peak_kib'] / 1024:7.0f} MiB "
              f"(building process {r['cold']['own_kib'] / 1024:.0f}, workers {r['cold']['workers_kib'] / 1024:.0f})")
    if len(results) >= 2:
        small, large = results[min(results)], results[max(results)]
        per_page = [(r["cold"]["seconds"] / r["raw"]["pages"]) for r in (small, large)]
        print(f"\nseconds per page, {max(results)} ÷ {min(results)} sessions: "
              f"{per_page[1] / per_page[0]:.2f} (target <= 1.15)")
        print(f"peak memory, {max(results)} ÷ {min(results)} sessions: "
              f"{large['cold']['peak_kib'] / small['cold']['peak_kib']:.2f} (target <= 1.5)")
    kit_cmd = [str(Path(sys.executable).with_name("kit")), "--help"]
    help_time = best_of(kit_cmd)
    click_time = best_of([sys.executable, "-c", "import click"])
    print(f"\nkit --help: {help_time * 1000:.0f} ms; python -c 'import click': {click_time * 1000:.0f} ms; "
          f"ratio {help_time / click_time:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
