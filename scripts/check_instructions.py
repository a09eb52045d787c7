#!/usr/bin/env python3
"""Compares instruction counts from the gungraun benches with the committed baseline.

Reads every ``summary.json`` that gungraun wrote under ``target/gungraun`` (run the benches
with ``GUNGRAUN_SAVE_SUMMARY=json``; ``scripts/check_instructions.sh`` does all of it) and
compares each benchmark's instruction count (callgrind ``Ir``) with
``bench/instructions/baseline.json``.

Exit status 1 when a count grew by more than the baseline's ``margin_pct``, when a
benchmark has no baseline entry, or when a baseline entry was not measured; 0 otherwise.
A count that dropped by more than the margin passes with a note to refresh the baseline,
so that later regressions are measured from the improved figure.

``--update`` rewrites the baseline from the measured counts instead (a deliberate refresh;
see the README's "Instruction counts" section).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench" / "instructions" / "baseline.json"
DEFAULT_MARGIN_PCT = 2.0


def measured(summary_dir: Path) -> dict[str, int]:
    """Instruction count of every benchmark gungraun summarised under `summary_dir`."""
    counts: dict[str, int] = {}
    for path in sorted(summary_dir.rglob("summary.json")):
        summary = json.loads(path.read_text())
        name = "/".join(path.parent.relative_to(summary_dir).parts)
        total = summary["profiles"][0]["summaries"]["total"]["summary"]["Callgrind"]["Ir"]
        sides = total["metrics"]
        # "Both": [this run, previous run]; "Left": [this run] when there was no previous run.
        side = sides.get("Both", sides.get("Left"))
        value = side[0] if isinstance(side, list) else side
        counts[name] = int(value["Int"])
    return counts


def rustc_version() -> str:
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]


def compare(baseline: dict, counts: dict[str, int]) -> int:
    margin = float(baseline["margin_pct"])
    expected: dict[str, int] = baseline["instructions"]
    failures = []
    improved = []
    if baseline.get("rustc") != rustc_version() or baseline.get("machine") != platform.machine():
        print(
            f"note: baseline taken with rustc {baseline.get('rustc')} on {baseline.get('machine')}, "
            f"this run uses rustc {rustc_version()} on {platform.machine()}: codegen differences "
            "may move counts; refresh the baseline on purpose if they do"
        )
    width = max(map(len, expected | counts), default=0)
    print(f"{'benchmark':<{width}}  {'baseline':>10}  {'now':>10}  change (limit +{margin:g} %)")
    for name in sorted(expected | counts):
        if name not in counts:
            failures.append(f"{name}: in the baseline but not measured (renamed or removed?)")
            continue
        if name not in expected:
            failures.append(f"{name}: measured ({counts[name]}) but has no baseline entry")
            continue
        old, new = expected[name], counts[name]
        change = 100.0 * (new - old) / old
        verdict = ""
        if change > margin:
            verdict = "  REGRESSION"
            failures.append(f"{name}: {old} -> {new} instructions ({change:+.2f} %, limit +{margin:g} %)")
        elif change < -margin:
            verdict = "  improved"
            improved.append(name)
        print(f"{name:<{width}}  {old:>10}  {new:>10}  {change:+7.2f} %{verdict}")
    if improved:
        print(f"{len(improved)} benchmark(s) improved beyond the margin: refresh the baseline to keep the gain")
    if failures:
        print("instruction-count check FAILED:")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print(f"instruction-count check passed ({len(counts)} benchmarks within +{margin:g} %)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--summaries", type=Path, default=ROOT / "target" / "gungraun")
    parser.add_argument("--update", action="store_true", help="rewrite the baseline from this run")
    args = parser.parse_args()
    counts = measured(args.summaries)
    if not counts:
        print(f"no gungraun summary.json under {args.summaries}: run scripts/check_instructions.sh")
        return 1
    if args.update:
        margin = json.loads(BASELINE.read_text())["margin_pct"] if BASELINE.exists() else DEFAULT_MARGIN_PCT
        baseline = {
            "margin_pct": margin,
            "rustc": rustc_version(),
            "machine": platform.machine(),
            "instructions": dict(sorted(counts.items())),
        }
        BASELINE.parent.mkdir(parents=True, exist_ok=True)
        BASELINE.write_text(json.dumps(baseline, indent=2) + "\n")
        print(f"wrote {len(counts)} counts to {BASELINE.relative_to(ROOT)}")
        return 0
    return compare(json.loads(BASELINE.read_text()), counts)


if __name__ == "__main__":
    sys.exit(main())
