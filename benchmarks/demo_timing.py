"""Wall time of ``make demo``, split into install, service start and DAG run.

Usage: ``python3 benchmarks/demo_timing.py [--runs 3]`` from the repository root.

The install is timed once, into a new virtualenv under a temporary folder, with
pip's cache as it is on the machine. The demo then runs ``--runs`` times
against that virtualenv, each in a new demo folder; the service start and DAG
run times are the ones ``scripts/demo.py`` prints.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMINGS = re.compile(r"Timings:\s+service start ([\d.]+) s, DAG run ([\d.]+) s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="globus-demo-bench-") as scratch:
        venv = Path(scratch) / "venv"
        started = time.perf_counter()
        subprocess.run(["make", "install", f"VENV={venv}"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        install = time.perf_counter() - started

        totals, starts, runs = [], [], []
        for index in range(args.runs):
            demo_dir = Path(scratch) / f"demo-{index}"
            started = time.perf_counter()
            output = subprocess.run(
                ["make", "demo", f"VENV={venv}", f"DEMO_DIR={demo_dir}"],
                cwd=REPO, check=True, capture_output=True, text=True,
            ).stdout
            totals.append(time.perf_counter() - started)
            match = TIMINGS.search(output)
            if match is None:
                raise RuntimeError(f"no Timings line in the demo output:\n{output}")
            starts.append(float(match.group(1)))
            runs.append(float(match.group(2)))

    print(f"install (once, new venv): {install:.1f} s")
    print(f"service start: median {statistics.median(starts):.2f} s over {args.runs} runs")
    print(f"DAG run:       median {statistics.median(runs):.1f} s")
    print(f"make demo without install: median {statistics.median(totals):.1f} s")


if __name__ == "__main__":
    main()
