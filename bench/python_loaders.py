#!/usr/bin/env python3
"""Python loaders side by side (issue 14): random 1 s and 50 ms windows per second and peak RSS
for the `strobe` package vs the seed's h5py loader (DSEC `ms_to_idx` slicing, and a binary
search on `t`), h5py + fsspec over HTTP (50 ms added per request), evlib, and DataLoader-style
multiprocessing workers — same file, same windows, same run. Every reader's windows are checked
against h5py's (event count and sum of t); a mismatch fails the run.

    python bench/python_loaders.py [--events 30000000] [--seconds 10] [--md OUT.md]

Run it with a Python that has the `strobe` package (pip install ./python), h5py, hdf5plugin,
fsspec + aiohttp (bench/requirements.txt) and, optionally, evlib. The DSEC-like file is written
with tests/fixtures/make_fixtures.py's DSEC writer (blosc zstd + bitshuffle, h5py's chunk guess,
ms_to_idx, t_offset) into bench/data/ and reused. Each reader runs in its own process so that
its peak RSS (ru_maxrss) is its own. The same file is served by `strobe serve --latency-ms 50`.
"""

import argparse
import json
import multiprocessing as mp
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 480


# -- the file --------------------------------------------------------------------------------
def make_file(path, events, seconds):
    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import make_fixtures as mf  # the project's DSEC writer and synthetic stream

    st = mf.Stream(mf.fixture_seed("python_bench"), events, int(seconds * 1e6), W, H,
                   bursts_per_s=1.0, peak_ratio=(0.4, 0.9), sigma_ms=(150, 500))
    tmp = path.with_suffix(".tmp")
    mf.write_dsec_full(tmp, st, mf.blosc("zstd", 1, "bit"))
    os.replace(tmp, path)


def window_starts(t_first, t_last, length, count, seed):
    rng = np.random.default_rng(seed)
    last = t_last + 1 - length
    return [int(t_first + rng.integers(0, (last - t_first) // 1000 + 1) * 1000) for _ in range(count)]


# -- readers: each returns per-window (events, sum of t) --------------------------------------
def signed_normalized(x, y, t, p, t0):
    """The seed's output: x/width, y/height as float32, t from the window start, p as −1/+1."""
    return (x.astype(np.float32) / W, y.astype(np.float32) / H, (t.astype(np.int64) - t0),
            np.where(p > 0, 1, -1).astype(np.int8))


def read_strobe(src, starts, length):
    import strobe

    rec = strobe.open(src)
    out = []
    for t0 in starts:
        w = rec.window(t0, t0 + length, polarity="signed", normalize=True)
        out.append((len(w["t"]), int(w["t"].sum()) + t0 * len(w["t"])))
        del w  # as the h5py readers: one window's arrays alive at a time
    return out


def read_strobe_ahead(src, starts, length, ahead=4):
    """As `read_strobe`, with the next `ahead` windows requested while one is handed out
    (`Recording.submit_window`, what `WindowStream(prefetch=4)` does): over HTTP their round
    trips overlap. At most `ahead` + 1 windows' arrays are alive at once."""
    import collections

    import strobe

    rec = strobe.open(src)
    out = []
    queue = collections.deque()
    nxt = 0
    for _ in starts:
        while nxt < len(starts) and len(queue) <= ahead:
            queue.append((starts[nxt], rec.submit_window(starts[nxt], starts[nxt] + length,
                                                         polarity="signed", normalize=True)))
            nxt += 1
        t0, pending = queue.popleft()
        w = pending.wait()
        out.append((len(w["t"]), int(w["t"].sum()) + t0 * len(w["t"])))
        del w
    return out


def h5_open(src):
    import h5py
    import hdf5plugin  # noqa: F401

    if src.startswith("http"):
        import fsspec

        fs = fsspec.filesystem("http")
        return h5py.File(fs.open(src, "rb", block_size=1 << 20), "r")
    return h5py.File(src, "r")


def h5_slice(f, a, b, t0):
    ev = f["events"]
    x, y, t, p = (ev[k][a:b] for k in ("x", "y", "t", "p"))
    x, y, t, p = signed_normalized(x, y, t, p, t0)
    return (len(t), int(t.sum()) + t0 * len(t))


def read_h5_ms(src, starts, length):
    """The seed's loader with DSEC's own index: rows from ms_to_idx[t0 ms], ms_to_idx[t1 ms]."""
    f = h5_open(src)
    ms = f["ms_to_idx"]
    out = []
    for t0 in starts:
        a, b = int(ms[t0 // 1000]), int(ms[(t0 + length) // 1000])
        out.append(h5_slice(f, a, b, t0))
    return out


def read_h5_search(src, starts, length):
    """The seed's other variant: a binary search on t (searchsorted semantics, 'left'), probing
    the h5py dataset element by element so t is never loaded whole."""
    f = h5_open(src)
    t = f["events/t"]
    n = t.shape[0]

    def first_at_or_after(v):
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) // 2
            if int(t[mid]) < v:
                lo = mid + 1
            else:
                hi = mid
        return lo

    return [h5_slice(f, first_at_or_after(t0), first_at_or_after(t0 + length), t0) for t0 in starts]


def read_evlib(src, starts, length):
    import evlib

    out = []
    for t0 in starts:
        df = evlib.load_events(src, t_start=t0 / 1e6, t_end=(t0 + length) / 1e6)
        if hasattr(df, "collect"):
            df = df.collect()
        out.append((len(df), None))
    return out


READERS = {"strobe": read_strobe, "strobe_ahead": read_strobe_ahead, "h5py_ms_to_idx": read_h5_ms,
           "h5py_search": read_h5_search, "evlib": read_evlib}


def run_reader(name, src, starts, length, queue):
    try:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        digests = READERS[name](src, starts, length)
        took = time.perf_counter() - t
        queue.put({"ok": True, "seconds": took, "digests": digests, "base_kb": base,
                   "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
    except BaseException as e:  # noqa: BLE001 — reported in the table
        queue.put({"ok": False, "error": f"{type(e).__name__}: {e}"})


def measure(name, src, starts, length, timeout):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=run_reader, args=(name, src, starts, length, q))
    proc.start()
    try:
        res = q.get(timeout=timeout)
    except Exception:  # noqa: BLE001
        res = {"ok": False, "error": f"no result within {timeout} s"}
    proc.join(5)
    if proc.is_alive():
        proc.kill()
    res.update(reader=name, windows=len(starts), length_us=length, source="http" if src.startswith("http") else "local")
    return res


# -- DataLoader-style workers -------------------------------------------------------------------
def worker_read(args):
    ds, index = args
    return len(ds[index]["t"])


def measure_workers(src, length, count, workers, threads=None):
    import strobe

    ds = strobe.EventWindows([src], length, random=True, windows_per_epoch=count, seed=21, threads=threads)
    t = time.perf_counter()
    if workers == 0:
        n = sum(len(ds[i]["t"]) for i in range(len(ds)))
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            n = sum(pool.map(worker_read, [(ds, i) for i in range(len(ds))], chunksize=1))
    return {"workers": workers, "threads": threads, "windows": count,
            "seconds": time.perf_counter() - t, "events": n}


def measure_torch_loader(src, length, count, workers, context, threads=None):
    """The real thing: torch's DataLoader over `EventWindows` (batch_size=None: one window per
    item, as the seed's loader yields them), `workers` processes started by `context`, each
    engine decoding on `threads` threads (None: every core)."""
    import strobe
    import torch.utils.data as tud

    ds = strobe.EventWindows([src], length, random=True, windows_per_epoch=count, seed=21, threads=threads)
    loader = tud.DataLoader(ds, batch_size=None, num_workers=workers,
                            multiprocessing_context=context if workers else None)
    t = time.perf_counter()
    n = sum(len(sample["t"]) for sample in loader)
    return {"workers": workers, "context": context, "threads": threads, "windows": count,
            "seconds": time.perf_counter() - t, "events": n}


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- main ---------------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=30_000_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--data", default=str(ROOT / "bench" / "data"))
    ap.add_argument("--strobe-bin", default=str(ROOT / "target" / "release" / "strobe"))
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--json", default=str(ROOT / "bench" / "python_results.json"))
    ap.add_argument("--skip-evlib", action="store_true")
    ap.add_argument("--workers-only", action="store_true",
                    help="only the worker and DataLoader rows (to repeat them on a quieter machine)")
    ap.add_argument("--file", help="an existing DSEC-layout file to use instead of writing one "
                    "(e.g. the 100 M-event big_dsec_full_bitshuffle.h5 of bench/run.sh)")
    args = ap.parse_args()

    if args.file:
        path = Path(args.file).resolve()
        data = path.parent
    else:
        data = Path(args.data)
        data.mkdir(parents=True, exist_ok=True)
        path = data / f"python_dsec_{args.events // 1_000_000}M.h5"
    if not path.exists():
        print(f"writing {path} ({args.events} events over {args.seconds} s)", file=sys.stderr)
        make_file(path, args.events, args.seconds)
    import strobe

    rec = strobe.open(path)
    print(f"file: {path.name}, {rec.events} events, {path.stat().st_size / 1e6:.0f} MB", file=sys.stderr)
    port = free_port()
    server = subprocess.Popen([args.strobe_bin, "serve", "--data", str(data), "--port", str(port),
                               "--bind", "127.0.0.1", "--latency-ms", str(args.latency_ms)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/data/{path.name}"
    time.sleep(1.0)
    results = {"file": path.name, "events": rec.events, "bytes": path.stat().st_size,
               "latency_ms": args.latency_ms, "rows": [], "workers": [],
               "loadavg": os.getloadavg()}
    plan = [  # (reader, source, length, windows, timeout)
        ("strobe", str(path), 1_000_000, 20, 900), ("h5py_ms_to_idx", str(path), 1_000_000, 20, 900),
        ("h5py_search", str(path), 1_000_000, 20, 900),
        ("strobe", str(path), 50_000, 200, 900), ("h5py_ms_to_idx", str(path), 50_000, 200, 900),
        ("h5py_search", str(path), 50_000, 200, 900),
        ("strobe", url, 1_000_000, 5, 900), ("h5py_ms_to_idx", url, 1_000_000, 2, 900),
        ("strobe", url, 50_000, 20, 900), ("h5py_ms_to_idx", url, 50_000, 5, 900),
        ("strobe_ahead", url, 1_000_000, 5, 900), ("strobe_ahead", url, 50_000, 20, 900),
    ]
    if args.workers_only:
        plan = []
    elif not args.skip_evlib:
        # evlib decodes the whole file on every call (minutes and ~11 GB for 100 M events): one
        # window of each length shows that its cost does not depend on the window.
        plan += [("evlib", str(path), 1_000_000, 1, 900), ("evlib", str(path), 50_000, 1, 900)]
    try:
        oracle = {}
        for name, src, length, count, timeout in plan:
            starts = window_starts(rec.t_first, rec.t_last, length, count, seed=length)
            print(f"{name} {src[:40]} {length} x{count}", file=sys.stderr)
            res = measure(name, src, starts, length, timeout)
            if res["ok"]:
                key = (length, tuple(starts))
                ref = oracle.setdefault(key, None)
                if name.startswith("h5py") and ref is None:
                    oracle[key] = res["digests"]
                res["events_total"] = sum(d[0] for d in res["digests"])
            results["rows"].append(res)
            print(json.dumps({k: v for k, v in res.items() if k != "digests"}), file=sys.stderr)
        # Every reader's windows against h5py's for the same starts.
        fails = []
        for res in results["rows"]:
            if not res["ok"]:
                continue
            starts = window_starts(rec.t_first, rec.t_last, res["length_us"], res["windows"], seed=res["length_us"])
            ref = oracle.get((res["length_us"], tuple(starts)))
            if res["reader"] == "evlib":
                # evlib.load_events(t_start, t_end) keeps events with t == t_end too (measured:
                # exactly the events at t1 are the difference): compared with h5py's [t0, t1].
                ref = read_h5_search(str(path), starts, res["length_us"] + 1)
            elif ref is None:
                # Windows no h5py row read: compare with a local h5py read of the same starts.
                ref = read_h5_ms(str(path), starts, res["length_us"])
            for got, want in zip(res["digests"], ref):
                if got[0] != want[0] or (got[1] is not None and got[1] != want[1]):
                    fails.append(f"{res['reader']} ({res['source']}): {got} != h5py {want}")
                    break
            res.pop("digests")
        # Decode on every core (threads=None) vs one decode thread per process (threads=1): the
        # second is the fair test of worker scaling (processes vs one single-threaded process).
        # The same 16 windows in every row, so every row's event total must agree.
        for threads, counts in ((None, (0, 2, 4)), (1, (0, 1, 2))):
            for workers in counts:
                r = measure_workers(str(path), "1s", 16, workers, threads)
                results["workers"].append(r)
                print(json.dumps(r), file=sys.stderr)
        results["torch"] = []
        if torch_available():
            for threads, runs in ((None, ((0, None), (2, "fork"), (2, "spawn"), (4, "fork"))),
                                  (1, ((0, None), (1, "fork"), (2, "fork")))):
                for workers, context in runs:
                    r = measure_torch_loader(str(path), "1s", 16, workers, context, threads)
                    results["torch"].append(r)
                    print(json.dumps(r), file=sys.stderr)
        totals = {r["events"] for r in results["workers"] + results["torch"]}
        if len(totals) > 1:
            fails.append(f"worker rows read different event totals for the same windows: {sorted(totals)}")
        results["fails"] = fails
    finally:
        server.terminate()
        server.wait(10)
    Path(args.json).write_text(json.dumps(results, indent=1))
    print(markdown(results))
    if results["fails"]:
        print("\n".join(results["fails"]), file=sys.stderr)
        sys.exit(1)


def markdown(res):
    rows = res["rows"]
    L = [f"File: `{res['file']}` ({res['events']:,} events, {res['bytes'] / 1e6:.0f} MB, DSEC layout, "
         f"blosc zstd + bitshuffle). HTTP: `strobe serve --latency-ms {res['latency_ms']}`. "
         f"Load average at start {res['loadavg'][0]:.1f} on 2 cores (other jobs shared the machine).", "",
         "| reader | source | window | windows | windows/s | peak RSS MB | events/window |",
         "|---|---|---|---:|---:|---:|---:|"]
    for r in rows:
        win = "1 s" if r["length_us"] == 1_000_000 else f"{r['length_us'] // 1000} ms"
        if r["ok"]:
            L.append(f"| {r['reader']} | {r['source']} | {win} | {r['windows']} | "
                     f"{r['windows'] / r['seconds']:.2f} | {r['peak_kb'] / 1024:.0f} | "
                     f"{r['events_total'] / r['windows']:,.0f} |")
        else:
            L.append(f"| {r['reader']} | {r['source']} | {win} | {r['windows']} | — | — | {r['error']} |")
    def threads(w):
        return "all cores" if w.get("threads") is None else str(w["threads"])

    L += ["", "| DataLoader-style workers (multiprocessing fork, 1 s random windows) | decode threads per process | windows | windows/s |",
          "|---|---|---:|---:|"]
    for w in res["workers"]:
        L.append(f"| {w['workers']} | {threads(w)} | {w['windows']} | {w['windows'] / w['seconds']:.2f} |")
    if res.get("torch"):
        L += ["", "| torch `DataLoader(EventWindows, batch_size=None)`, 1 s random windows | start | decode threads per process | windows | windows/s |",
              "|---|---|---|---:|---:|"]
        for w in res["torch"]:
            L.append(f"| {w['workers']} workers | {w['context'] or '—'} | {threads(w)} | {w['windows']} | "
                     f"{w['windows'] / w['seconds']:.2f} |")
    return "\n".join(L)


if __name__ == "__main__":
    main()
