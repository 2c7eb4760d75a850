"""Loading and planning a module of many blocks: time and peak memory against block count.

Run from the repository root (not part of the default test run):

    .venv/bin/python tests/benchmarks/bench_blocks.py                      # 450, 1k, 5k, 10k, 20k
    .venv/bin/python tests/benchmarks/bench_blocks.py --sizes 1000,5000
    .venv/bin/python tests/benchmarks/bench_blocks.py --no-limit           # lift the block limit
    .venv/bin/python tests/benchmarks/bench_blocks.py --profile 5000       # where the time goes

Each size is measured in a fresh process: `kit.loader.load_kit` alone, then
`kit.build.load_and_plan` (which loads again and makes every document's HTML),
with the process's peak resident memory after each. A module over the limit of
blocks per module stops at loading with an error; `--no-limit` raises the limits
of a module's size so that the whole pipeline's growth can be seen past them. No
PDF is rendered. A size counts the items of the run of show; prompts, questions
and misconceptions hold an answer, so the module has about 1.1 times as many
':::' blocks (450 items: 495 blocks, inside the limit of 500).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

sys.path.insert(0, str(REPO / "tests"))
from conftest import COURSE_YAML as COURSE  # noqa: E402 - the test fixtures' course, with one product

# One of each kind of block, short (20,000 of them must fit in the 1 MiB a module may
# have), some with a little Markdown; the module cycles through them.
BLOCKS = [
    "::: note\nA *pause* {i}.\n:::\n",
    "::: anecdote Flat {i}\npoint: A bug.\n\nNo **move**.\n:::\n",
    "::: example E{i}\nproduct: widget\n\nIt `learns`.\n:::\n",
    ":::: prompt P{i}\n\nLinear?\n::: answer\nYes.\n:::\n::::\n",
    ":::: question\nWhy {i}?\n::: answer\nNo form.\n:::\n::::\n",
    "::: pair Flip {i}\nminutes: 1\n\nExplain.\n:::\n",
    "::: check\nThumbs {i}?\n:::\n",
    "::: say\nSay {i}.\n:::\n",
    "::: timing\ncut: The story.\n:::\n",
    "Talk {i}: [a link](https://example.org/).\n",
]
SEGMENTS = 100
MINUTES_EACH = 6  # 100 segments of 6 minutes: a 600-minute session, the longest allowed


def module_text(blocks: int) -> str:
    parts = ["---\ntitle: Many blocks\nminutes: 600\nprework:\n  - title: A video\n"
             "    url: https://example.org/video\n    minutes: 10\n    kind: video\n---\n"
             "The overview.\n\n"]
    for s in range(SEGMENTS):
        parts.append(f"## Segment {s + 1} {{minutes={MINUTES_EACH} kind=discussion}}\n\n")
        count = blocks // SEGMENTS + (1 if s < blocks % SEGMENTS else 0)
        for b in range(count):
            i = s * (blocks // SEGMENTS + 1) + b
            parts.append(BLOCKS[i % len(BLOCKS)].format(i=i) + "\n")
    return "".join(parts)


def make_kit(root: Path, blocks: int) -> Path:
    course = root / "content" / "bench"
    course.mkdir(parents=True)
    (course / "course.yaml").write_text(COURSE, encoding="utf-8")
    (course / "01-many-blocks.md").write_text(module_text(blocks), encoding="utf-8")
    return root


MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
stage, root, no_limit, profile = sys.argv[1], Path(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
import kit.loader, kit.markdown, kit.parse
if no_limit:  # the limits of a module's size (those that exist in this version of kit)
    for module, name in ((kit.parse, "MAX_BLOCKS"), (kit.markdown, "MAX_ELEMENTS"), (kit.loader, "MAX_ELEMENTS")):
        if hasattr(module, name):
            setattr(module, name, 10**9)
from kit.build import BuildOptions, load_and_plan
from kit.errors import KitError
from kit.loader import load_kit
def run():
    if stage == "load":
        loaded = load_kit(root)
        return [p.format() for p in loaded.problems.errors]
    try:
        load_and_plan(root, BuildOptions(out=root / "out", jobs=1))
        return []
    except KitError as exc:
        return [p.format() for p in exc.problems]
start = time.perf_counter()
if profile:
    import cProfile, pstats
    prof = cProfile.Profile()
    errors = prof.runcall(run)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
else:
    errors = run()
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_kib": peak, "errors": errors[:3]}))
"""


def measure(stage: str, root: Path, no_limit: bool, profile: bool = False) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, stage, str(root), "1" if no_limit else "0",
                           "1" if profile else "0"], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-3000:]}")
    if profile:
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="450,1000,5000,10000,20000", help="block counts, comma-separated")
    parser.add_argument("--no-limit", action="store_true", help="lift the limit of blocks per module")
    parser.add_argument("--profile", type=int, metavar="BLOCKS", help="print cProfile's view of one size")
    parser.add_argument("--stage", choices=("load", "plan"), default="plan", help="what --profile runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-bench-blocks-") as tmp:
        if args.profile:
            root = make_kit(Path(tmp) / "kit", args.profile)
            print(measure(args.stage, root, args.no_limit, profile=True))
            return
        print(f"{'blocks':>7} {'load s':>8} {'load MiB':>9} {'load+plan s':>12} {'plan MiB':>9}  outcome")
        for size in (int(s) for s in args.sizes.split(",")):
            root = make_kit(Path(tmp) / f"kit-{size}", size)
            load = measure("load", root, args.no_limit)
            plan = measure("plan", root, args.no_limit)
            outcome = plan["errors"][0] if plan["errors"] else "planned"
            print(f"{size:>7} {load['seconds']:>8.2f} {load['peak_kib'] / 1024:>9.0f} "
                  f"{plan['seconds']:>12.2f} {plan['peak_kib'] / 1024:>9.0f}  {outcome[:90]}", flush=True)


if __name__ == "__main__":
    main()
