"""The page's decode workers on the big DSEC files: a 1 s window read with 0, 1 and 2 decode
workers (`workers=N`), cold and cached, in one run, each digest checked against h5py's.

    .venv/bin/python bench/page_workers.py [DATA_DIR] [--rounds N] [--json OUT]

DATA_DIR (default bench/data) must hold the big files bench/run.sh made (never regenerated
here). Builds the page (scripts/build-site.sh), serves it and DATA_DIR with `strobe serve` on a
free loopback port, runs `bench/browser.mjs --parts workers`, and prints a Markdown table
(ratios against the same run's workers=0 page) with the load average beside it. Exit 1 if a
digest differs from h5py's.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import h5py
import hdf5plugin  # noqa: F401  (registers bitshuffle/zstd for h5py)
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ONE_S = 1_000_000


def h5py_digest(path, t0, t1):
    """h5py's digest of the events t0 <= t < t1 (the page's digest fields). Rows are bracketed
    with ms_to_idx (only there is `t` read), then found exactly in `t`. (bench/compare.py has
    the same reader but needs the HTTP peers' packages, which this benchmark does not.)"""
    with h5py.File(path, "r") as f:
        t_ds, ms = f["events/t"], f["ms_to_idx"]
        n = t_ds.shape[0]
        lo_ms, hi_ms = t0 // 1000, -(-t1 // 1000) + 1
        i0 = int(ms[lo_ms]) if lo_ms < ms.shape[0] else n
        i1 = int(ms[hi_ms]) if hi_ms < ms.shape[0] else n
        t = t_ds[i0:i1]
        lo = i0 + int(np.searchsorted(t, t0, side="left"))
        hi = i0 + int(np.searchsorted(t, t1, side="left"))
        t = t_ds[lo:hi]
        x, y, p = (f[f"events/{c}"][lo:hi] for c in "xyp")
    return {"from": t0, "to": t1, "events": hi - lo, "first_index": lo,
            "sum_x": int(x.sum(dtype=np.int64)), "sum_y": int(y.sum(dtype=np.int64)),
            "sum_t": int(t.sum(dtype=np.int64)), "sum_p": int(p.sum(dtype=np.int64)),
            "positive": int(np.count_nonzero(p > 0))}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def strobe_bin():
    for profile in ("release", "debug"):
        path = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), profile, "strobe")
        if os.path.exists(path):
            return path
    sys.exit("page_workers: no target/{release,debug}/strobe — run cargo build --bin strobe")


def median(xs):
    return sorted(xs)[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", nargs="?", default=os.path.join(ROOT, "bench", "data"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", default=os.path.join(HERE, "page_workers.json"))
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    bigs = [e for e in manifest["fixtures"] if e.get("big")]
    if len(bigs) < 2:
        sys.exit(f"page_workers: {data} lacks the big files (bench/run.sh makes them)")
    spec = {"files": []}
    for e in bigs:
        a = {w["label"]: w for w in e["windows"]}["50ms_unaligned_middle"]["from"]
        digest = h5py_digest(os.path.join(data, e["file"]), a, a + ONE_S)
        spec["files"].append({"file": e["file"], "one_s": [a, a + ONE_S], "one_s_digest": digest})
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "build-site.sh")], check=True, stdout=sys.stderr)
    port = free_port()
    site = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([strobe_bin(), "serve", "--site", ROOT, "--data", data, "--port", str(port),
                               "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{site}/index.html", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(spec, fh)
        load_before = os.getloadavg()
        out = subprocess.run(["node", os.path.join(HERE, "browser.mjs"), "--site", site, "--data", f"{site}/data",
                              "--spec", fh.name, "--parts", "workers", "--rounds", str(args.rounds)],
                             capture_output=True, text=True, timeout=3600)
        load_after = os.getloadavg()
        os.unlink(fh.name)
    finally:
        server.terminate()
        server.wait()
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        sys.exit("page_workers: bench/browser.mjs failed")
    res = json.loads(out.stdout)
    res["load_before"], res["load_after"] = load_before, load_after
    res["cpus"] = os.cpu_count()
    with open(args.json, "w") as fh:
        json.dump(res, fh, indent=1)
    ok = True
    print(f"Load average (1, 5, 15 min) before {', '.join(f'{v:.2f}' for v in load_before)}, "
          f"after {', '.join(f'{v:.2f}' for v in load_after)}; {res['cpus']} CPUs; {res['chromium']}.\n")
    print("| file | events | workers | cold ms | cached ms | cached × workers=0 | engine wasm MB | workers' wasm MB | digest |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for f in res["files"]:
        w = f["workers"]
        ok = ok and w["digests_agree"]
        by = {}
        for r in w["runs"]:
            by.setdefault(r["workers"], []).append(r)
        base = median([x for r in by.get(0, []) for x in r["cached_runs_ms"]])
        for n, runs in sorted(by.items()):
            cached = median([x for r in runs for x in r["cached_runs_ms"]])
            cold = median([r["cold_window_ms"] for r in runs])
            engine = max(r["engine_memory"] for r in runs) / 1e6
            helpers = "/".join(f"{m / 1e6:.1f}" for m in max((r["worker_memory"] for r in runs),
                                                             key=lambda m: sum(m))) or "–"
            agree = "h5py's" if all(r["agrees"] for r in runs) else "**DIFFERS**"
            print(f"| {f['file']} | {runs[0]['events']} | {n} | {cold:.0f} | {cached:.0f} | "
                  f"{base / cached:.2f}× | {engine:.1f} | {helpers} | {agree} |")
    print(f"\n(JSON: {os.path.relpath(args.json, ROOT)}; cached: median of {5 * args.rounds} reads from the "
          "engine's cache; cold: a new page, its first read of the window.)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
