#!/usr/bin/env python3
"""Python's `threads=` (issue 13.6): the busiest 1 s window of a big DSEC file read with
`strobe.open(FILE, threads=1)` and with the default (every core), alternating in one process
(warm: the file's pages and the recording stay open); median and best seconds per window and the
speed-up. Each result is checked against h5py (events and sum of t). Run with a Python whose
`strobe` package is built from this tree (pip install ./python).

    python bench/python_threads.py FILE [--runs 6]
"""

import argparse
import statistics
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from threads import busiest_second, h5py_digest  # noqa: E402  (bench/threads.py)

import strobe  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--runs", type=int, default=6)
    a = ap.parse_args()
    t0, t1, _ = busiest_second(a.file)
    ref = h5py_digest(a.file, t0, t1)
    recs = {"threads=1": strobe.open(a.file, threads=1), "default": strobe.open(a.file)}
    times = {k: [] for k in recs}
    for i in range(a.runs + 1):
        for name, rec in recs.items():
            start = time.perf_counter()
            w = rec.window(t0, t1)
            took = time.perf_counter() - start
            got = {"events": len(w["t"]), "sum_t": int(w["t"].sum(dtype="int64")),
                   "sum_x": int(w["x"].sum(dtype="int64"))}
            if got != ref:
                sys.exit(f"{name}: {got} differs from h5py's {ref}")
            if i:  # the first round warms up
                times[name].append(took)
    base = statistics.median(times["threads=1"])
    print(f"window [{t0}, {t1}) µs, {ref['events']:,} events")
    print("| strobe.open | median s | best s | speed-up (median) |")
    print("|---|---:|---:|---:|")
    for name, ts in times.items():
        print(f"| {name} | {statistics.median(ts):.3f} | {min(ts):.3f} | {base / statistics.median(ts):.2f}× |")


if __name__ == "__main__":
    main()
