#!/usr/bin/env python3
"""Parallel decode (issue 13.6): the busiest 1 s window of a big DSEC file read in a warm
process (`strobe --threads N window FILE --repeat R --json`) with N = 1, 2, ... threads; median
and best in-process time per run, the speed-up over one thread, and the process's peak RSS
(VmHWM). Thread counts alternate run by run so that all sample the same machine load; the load
average is reported beside the numbers (the figures are only comparable within one run). Each
run's digest is checked against h5py's (events, sums) — a mismatch fails.

    python bench/threads.py FILE [--strobe target/release/strobe] [--threads 1,2] [--rounds 3]
        [--repeat 6] [--json OUT.json]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import h5py
import hdf5plugin  # noqa: F401  (registers the file's filters for h5py)
import numpy as np


def busiest_second(path):
    """[from, to) of the 1 s (whole ms) holding the most events, from ms_to_idx."""
    with h5py.File(path, "r") as f:
        ms = f["ms_to_idx"][:].astype(np.int64)
    counts = ms[1000:] - ms[:-1000]
    k = int(np.argmax(counts))
    return k * 1000, (k + 1000) * 1000, int(counts[k])


def h5py_digest(path, t0, t1):
    with h5py.File(path, "r") as f:
        ms = f["ms_to_idx"]
        lo, hi = int(ms[t0 // 1000]), int(ms[min(t1 // 1000, len(ms) - 1)])
        t = f["events/t"][lo:hi].astype(np.int64)
        keep = (t >= t0) & (t < t1)
        x = f["events/x"][lo:hi][keep].astype(np.int64)
        return {"events": int(keep.sum()), "sum_t": int(t[keep].sum()), "sum_x": int(x.sum())}


def run(strobe, path, t0, t1, threads, repeat):
    cmd = [strobe, "--threads", str(threads), "window", path, "--from", str(t0), "--to", str(t1),
           "--json", "--repeat", str(repeat)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--strobe", default="target/release/strobe")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=6, help="runs per process; the first is warm-up")
    ap.add_argument("--json")
    a = ap.parse_args()
    counts = [int(n) for n in a.threads.split(",")]
    t0, t1, expected = busiest_second(a.file)
    ref = h5py_digest(a.file, t0, t1)
    runs = {n: [] for n in counts}
    rss = {n: [] for n in counts}
    loads = []
    with open(a.file, "rb") as f:  # warm page cache: the bench measures decoding, not the disk
        while f.read(64 << 20):
            pass
    for _ in range(a.rounds):
        for n in counts:
            loads.append(os.getloadavg()[0])
            out = run(a.strobe, a.file, t0, t1, n, a.repeat)
            got = {k: out[k] for k in ref}
            if got != ref:
                sys.exit(f"--threads {n}: digest {got} differs from h5py's {ref}")
            runs[n] += out["runs_ms"][1:]
            rss[n].append(out["peak_rss_kb"] / 1024)
    res = {
        "file": os.path.basename(a.file), "window": [t0, t1], "events": ref["events"],
        "cpus": os.cpu_count(), "load_avg_1m": [min(loads), max(loads)],
        "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": {},
    }
    base = statistics.median(runs[counts[0]])
    for n in counts:
        med = statistics.median(runs[n])
        res["threads"][n] = {"median_ms": med, "best_ms": min(runs[n]), "speedup": base / med,
                             "best_speedup": min(runs[counts[0]]) / min(runs[n]),
                             "peak_rss_mb": max(rss[n]), "runs": len(runs[n])}
    print(f"{res['file']}: window [{t0}, {t1}) µs, {ref['events']:,} events; "
          f"{res['cpus']} CPUs, load average {min(loads):.1f}–{max(loads):.1f}")
    print("| threads | median ms | best ms | speed-up (median) | speed-up (best) | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, r in res["threads"].items():
        print(f"| {n} | {r['median_ms']:.0f} | {r['best_ms']:.0f} | {r['speedup']:.2f}× | "
              f"{r['best_speedup']:.2f}× | {r['peak_rss_mb']:.0f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
