#!/usr/bin/env python3
"""Strobe vs h5py (+fsspec over HTTP, +hdf5plugin locally) on the big DSEC files, in one run.

For each big file of DATA_DIR/manifest.json and each window (the manifest's `50ms_busiest`,
`50ms_unaligned_middle`, a 1 s window starting where the unaligned one starts, and the file's
busiest 1 s from ms_to_idx — the last without the fsspec readers) it measures:

  * Strobe, cold process, over HTTP: `strobe window URL --from --to --json` (rounds, requests,
    bytes, wall time; STROBE_TRACE=1 shows where the rounds go);
  * h5py + fsspec over the same URL, block_size 64 KiB and 5 MiB, reading the window the way
    DSEC's EventSlicer does (ms_to_idx, then t between the whole-ms bounds, refine both ends,
    then x/y/p of the exact rows). HTTP requests and body bytes are counted on the client by an
    aiohttp TraceConfig; a "round" is a batch of requests issued while none is in flight, which
    is what Strobe calls a round, so for a synchronous reader rounds == requests;
  * Strobe and h5py + hdf5plugin on the local file (page cache warm): wall time and events/s —
    Strobe both as a cold process (with its peak RSS) and in-process (`--repeat 7`: open + read
    timed inside one process after two warm-up runs, as h5py is timed; the two alternate twice
    on one pinned CPU);
  * the floor: compressed bytes of the x/y/t/p chunks the window's rows overlap (chunk_iter);
  * exactness: every reader's digest (events, first index, sums, positives) must equal h5py's
    on the local file (and the manifest's where it has the window). Mismatches print FAIL and
    make the exit status 1 (results are still written).

Writes RESULTS_JSON and BENCHMARKS_MD. Usage (normally through bench/run.sh):
  compare.py --data DIR --base-url http://127.0.0.1:PORT/data --strobe target/release/strobe \
             --latency-ms 50 --json bench/results.json --md BENCHMARKS.md --command "bench/run.sh"
"""

import argparse
import datetime
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import tempfile
import sys
import time
import urllib.request

import aiohttp
import fsspec
import h5py
import hdf5plugin  # noqa: F401  (registers Blosc for h5py)
import numpy as np

KIB, MIB = 1 << 10, 1 << 20
MANIFEST_WINDOWS = ("50ms_busiest", "50ms_unaligned_middle")
ONE_S_LABEL = "1s_from_unaligned_middle"
BUSIEST_1S_LABEL = "1s_busiest"
# In-process local reads, h5py and Strobe alike: unmeasured warm-up runs, then the median of
# this many (this machine's timings vary by ±20 % from run to run).
LOCAL_WARMUP, LOCAL_RUNS = 2, 5
DIGEST_KEYS = ("events", "first_index", "sum_x", "sum_y", "sum_t", "sum_p", "positive")
COLUMNS = ("x", "y", "t", "p")
FAILS = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fail(msg):
    FAILS.append(msg)
    print(f"FAIL: {msg}", flush=True)


# ---------------------------------------------------------------- the DSEC-style window read

def dsec_window(f, t0, t1):
    """Digest of events with t0 <= t < t1, read like DSEC's EventSlicer (ms_to_idx, t, refine, x/y/p)."""
    t_ds, m_ds = f["events/t"], f["ms_to_idx"]
    n, nm = t_ds.shape[0], m_ds.shape[0]
    ms0, ms1 = t0 // 1000, -(-t1 // 1000)  # floor / ceil to whole ms
    if ms0 < nm:
        sl = m_ds[ms0:min(ms1, nm - 1) + 1]  # one slice covers both ends
        i0 = int(sl[0])
        i1 = int(sl[-1]) if ms1 < nm else n
    else:
        i0 = i1 = n
    t = t_ds[i0:i1]
    a = int(np.searchsorted(t, t0, side="left"))
    b = int(np.searchsorted(t, t1, side="left"))
    lo, hi = i0 + a, i0 + b
    t = t[a:b]
    x = f["events/x"][lo:hi]
    y = f["events/y"][lo:hi]
    p = f["events/p"][lo:hi]
    return {
        "from": t0, "to": t1, "events": hi - lo, "first_index": lo,
        "sum_x": int(x.sum(dtype=np.int64)), "sum_y": int(y.sum(dtype=np.int64)),
        "sum_t": int(t.sum(dtype=np.int64)), "sum_p": int(p.sum(dtype=np.int64)),
        "positive": int(np.count_nonzero(p > 0)),
    }


# ---------------------------------------------------------------- HTTP counting for fsspec

class HttpCounter:
    """Counts requests, body bytes and rounds (batches issued while nothing is in flight)."""

    def __init__(self):
        self.requests = self.bytes = self.rounds = self.inflight = 0
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._start)
        self.trace.on_request_end.append(self._end)
        self.trace.on_request_exception.append(self._end)
        self.trace.on_response_chunk_received.append(self._chunk)

    async def _start(self, session, ctx, params):
        if self.inflight == 0:
            self.rounds += 1
        self.inflight += 1
        self.requests += 1

    async def _end(self, session, ctx, params):
        self.inflight -= 1

    async def _chunk(self, session, ctx, params):
        self.bytes += len(params.chunk)


def h5py_http(url, t0, t1, block_size):
    counter = HttpCounter()
    start = time.perf_counter()
    fs = fsspec.filesystem("http", skip_instance_cache=True,
                           client_kwargs={"trace_configs": [counter.trace]})
    with fs.open(url, "rb", block_size=block_size) as fo, h5py.File(fo, "r") as f:
        digest = dsec_window(f, t0, t1)
    wall = time.perf_counter() - start
    return {"digest": digest, "wall_s": wall, "requests": counter.requests,
            "bytes": counter.bytes, "rounds": counter.rounds}


def h5py_local(path, t0, t1):
    start, cpu = time.perf_counter(), time.process_time()  # CPU of all threads: is it one core?
    with h5py.File(path, "r") as f:
        digest = dsec_window(f, t0, t1)
    return {"digest": digest, "wall_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu}


def dsec_digest_of(w):
    """A manifest window's digest fields, as readers report them."""
    keys = ("from", "to", "events", "first_index", "sum_x", "sum_y", "sum_t", "sum_p", "positive")
    return {k: w[k] for k in keys}


def h5py_http_seek(url, first, second, block_size):
    """A warm seek: window `first` read through an open file, then `second` measured alone."""
    counter = HttpCounter()
    fs = fsspec.filesystem("http", skip_instance_cache=True,
                           client_kwargs={"trace_configs": [counter.trace]})
    with fs.open(url, "rb", block_size=block_size) as fo, h5py.File(fo, "r") as f:
        dsec_window(f, *first)
        r0, q0, b0 = counter.rounds, counter.requests, counter.bytes
        start = time.perf_counter()
        digest = dsec_window(f, *second)
        wall = time.perf_counter() - start
    return {"digest": digest, "wall_s": wall, "rounds": counter.rounds - r0,
            "requests": counter.requests - q0, "bytes": counter.bytes - b0}


def h5py_scrub(path, dt):
    """Every window of length dt from the first event to the last, one open file (h5py's best
    case for a scrub: the chunk cache stays warm)."""
    start = time.perf_counter()
    events = windows = 0
    with h5py.File(path, "r") as f:
        t = f["events/t"]
        first, last = int(t[0]), int(t[-1])
        w = first
        while w <= last:
            events += dsec_window(f, w, w + dt)["events"]
            windows += 1
            w += dt
    return {"windows": windows, "events": events, "wall_s": time.perf_counter() - start}


# ---------------------------------------------------------------- the page in Chromium (wasm)

def browser_bench(repo, site_url, bigs, seek_base):
    """bench/browser.mjs on the big files: decode rate, frame times, whole-file scrub."""
    spec = {"files": []}
    for e in bigs:
        wins = {w["label"]: w for w in e["windows"]}
        a = wins["50ms_unaligned_middle"]["from"]
        busy = wins["50ms_busiest"]
        mid = wins["50ms_unaligned_middle"]
        spec["files"].append({"file": e["file"], "one_s": [a, a + 1_000_000],
                              "busy": [busy["from"], busy["to"]],
                              "seek": [[mid["from"], mid["to"]], [busy["from"], busy["to"]]]})
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        out = subprocess.run(["node", os.path.join(repo, "bench", "browser.mjs"), "--site", site_url,
                              "--data", site_url.rstrip("/") + "/data", "--spec", fh.name,
                              "--seek-data", seek_base],
                             capture_output=True, text=True, timeout=3600)
    finally:
        os.unlink(fh.name)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        fail(f"bench/browser.mjs failed: {out.stderr.strip().splitlines()[-1:] }")
        return None
    return json.loads(out.stdout)


# ---------------------------------------------------------------- Strobe (native CLI)

TRACE_RE = re.compile(r"(?:@(\d+) )?.*round (\d+) \+(\d+) requests: \[(.*)\]")


def parse_trace(stderr, total):
    """Per round: requests and bytes, from STROBE_TRACE lines (several flights may share a round).

    The trace prints flights only; the opening head read is counted in the totals without a line.
    A single round missing from the trace gets what the totals have beyond the traced flights."""
    rounds = {}
    for line in stderr.splitlines():
        m = TRACE_RE.search(line)
        if not m:
            continue
        k = int(m.group(2))
        r = rounds.setdefault(k, {"round": k, "requests": 0, "bytes": 0})
        if m.group(1) is not None and "at_ms" not in r:
            r["at_ms"] = int(m.group(1))  # when the round's first flight was printed (≈ issued)
        r["requests"] += int(m.group(3))
        r["bytes"] += sum(int(b) for _, b in re.findall(r"\((\d+), (\d+)\)", m.group(4)))
    missing = [k for k in range(1, (total.get("rounds") or 0) + 1) if k not in rounds]
    if len(missing) == 1:
        rounds[missing[0]] = {
            "round": missing[0], "untraced": True,
            "requests": (total.get("requests") or 0) - sum(r["requests"] for r in rounds.values()),
            "bytes": (total.get("bytes") or 0) - sum(r["bytes"] for r in rounds.values())}
    return [rounds[k] for k in sorted(rounds)]


def strobe_window(strobe, src, t0, t1, trace=False, repeat=1):
    env = dict(os.environ)
    env.pop("STROBE_TRACE", None)
    if trace:
        env["STROBE_TRACE"] = "1"
    cmd = [strobe, "window", src, "--from", str(t0), "--to", str(t1), "--json"]
    if repeat > 1:
        cmd += ["--repeat", str(repeat)]
    start = time.perf_counter()
    # wait4: this child's own CPU time (RUSAGE_CHILDREN would mix in others).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE if trace else err,
                                text=True)
        err_lines = []
        if trace:  # read stderr as it comes, to time-stamp each round from the process start
            err_lines = [f"@{(time.perf_counter() - start) * 1000:.0f} {line}" for line in proc.stderr]
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read()
        err.seek(0)
        stderr = "".join(err_lines) if trace else err.read()
    cpu = ru.ru_utime + ru.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"strobe window {src} failed ({proc.returncode}): {stderr.strip()[-500:]}")
    out = json.loads(stdout)
    res = {"digest": {k: out.get(k) for k in ("from", "to") + DIGEST_KEYS}, "wall_s": wall,
           "requests": out.get("requests"), "bytes": out.get("bytes"), "rounds": out.get("rounds"),
           "cpu_s": cpu}
    if out.get("peak_rss_kb") is not None:  # the process's own VmHWM (wait4's maxrss counts the
        res["rss_mb"] = out["peak_rss_kb"] * 1024 / 1e6  # memory of the forking Python too)
    if repeat > 1:
        runs = out.get("runs_ms") or []
        res["runs_ms"] = runs
        res["wall_s"] = statistics.median(runs[LOCAL_WARMUP:] or runs) / 1000
        res.pop("cpu_s")
    if trace:
        res["trace"] = parse_trace(stderr, res)
    return res


def local_in_process(strobe, path, t0, t1):
    """h5py + hdf5plugin and Strobe reading the window in a warm process, alternating twice and
    pinned to one CPU: this machine's two vCPUs slow down by up to 1.5x in phases lasting
    seconds (host contention), so both readers must sample the same conditions. Each result's
    `best_s` is its fastest run (contention only ever slows a run down), `wall_s` its median."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(before)})  # strobe inherits it
    try:
        h_all, s_all, first = [], [], None
        for _ in range(2):
            h = repeat(lambda: h5py_local(path, t0, t1), max_runs=LOCAL_RUNS, warmup=LOCAL_WARMUP)
            first = first or h
            h_all += h["wall_runs_s"]
            st = strobe_window(strobe, path, t0, t1, repeat=LOCAL_WARMUP + LOCAL_RUNS)
            s_all += [ms / 1000 for ms in st["runs_ms"][LOCAL_WARMUP:]]
    finally:
        os.sched_setaffinity(0, before)
    ref = dict(first, wall_s=statistics.median(h_all), best_s=min(h_all), wall_runs_s=h_all)
    st.update(wall_s=statistics.median(s_all), best_s=min(s_all), wall_runs_s=s_all)
    return ref, st


def busiest_second(path):
    """[from, to) of the 1 s (whole ms) holding the most events, from ms_to_idx."""
    with h5py.File(path, "r") as f:
        ms = f["ms_to_idx"][:].astype(np.int64)
    if len(ms) <= 1000:
        return None
    counts = ms[1000:] - ms[:-1000]
    k = int(np.argmax(counts))
    return k * 1000, (k + 1000) * 1000


# ---------------------------------------------------------------- helpers

def repeat(fn, max_runs=3, quick_s=3.0, warmup=0):
    """Run fn `warmup` times unmeasured, then up to max_runs times while runs are quick.
    Wall = median; other fields of the first measured run."""
    for _ in range(warmup):
        fn()
    runs = [fn()]
    while len(runs) < max_runs and runs[0]["wall_s"] < quick_s:
        runs.append(fn())
    res = dict(runs[0])
    walls = [r["wall_s"] for r in runs]
    res["wall_s"] = statistics.median(walls)
    res["wall_runs_s"] = walls
    if all("cpu_s" in r for r in runs):
        res["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
    for k in ("requests", "bytes", "rounds"):
        vals = {r.get(k) for r in runs}
        if len(vals) > 1:
            res[k + "_varied"] = sorted(v for v in vals if v is not None)
    return res


def chunk_tables(path):
    """Per column: (chunk length, compressed size of chunk k as an int64 array)."""
    tables = {}
    with h5py.File(path, "r") as f:
        for c in COLUMNS:
            d = f[f"events/{c}"]
            clen = d.chunks[0]
            sizes = np.zeros(-(-d.shape[0] // clen), dtype=np.int64)

            def visit(info, sizes=sizes, clen=clen):
                sizes[info.chunk_offset[0] // clen] = info.size

            if hasattr(d.id, "chunk_iter"):
                d.id.chunk_iter(visit)
            else:  # older HDF5
                for k in range(sizes.size):
                    visit(d.id.get_chunk_info_by_coord((k * clen,)))
            tables[c] = (clen, sizes)
    return tables


def floor_bytes(tables, lo, hi):
    total, chunks, per = 0, 0, {}
    for c, (clen, sizes) in tables.items():
        if hi <= lo:
            per[c] = 0
            continue
        k0, k1 = lo // clen, (hi - 1) // clen + 1
        per[c] = int(sizes[k0:k1].sum())
        total += per[c]
        chunks += k1 - k0
    return {"bytes": total, "chunks": chunks, "per_column": per}


def wait_for_server(url, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        try:
            req = urllib.request.Request(url, method="HEAD")
            with urllib.request.urlopen(req, timeout=5):
                return
        except Exception as e:  # noqa: BLE001
            if time.time() > deadline:
                raise RuntimeError(f"server at {url} not answering: {e}")
            time.sleep(0.2)


def warm_page_cache(path):
    with open(path, "rb") as fh:
        while fh.read(16 * MIB):
            pass


def check(reader, got, ref, where):
    bad = [k for k in DIGEST_KEYS if got.get(k) != ref.get(k)]
    if bad:
        fail(f"{where}: {reader} digest differs from h5py (local) in {', '.join(bad)}: "
             + ", ".join(f"{k} {got.get(k)} != {ref.get(k)}" for k in bad))
        return False
    return True


def machine():
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        pass
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["mem_gib"] = round(int(line.split()[1]) / (1 << 20), 1)
                break
    except OSError:
        pass
    info["blosc_nthreads"] = os.environ.get("BLOSC_NTHREADS")
    info["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    info["versions"] = {"h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
                        "hdf5plugin": hdf5plugin.version, "numpy": np.__version__,
                        "fsspec": fsspec.__version__, "aiohttp": aiohttp.__version__}
    return info


def git_state(repo):
    def run(*a):
        r = subprocess.run(["git", "-C", repo, *a], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None
    dirty = run("status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock")
    return {"commit": run("rev-parse", "--short", "HEAD"),
            "src_dirty": bool(dirty), "src_dirty_files": dirty.splitlines() if dirty else []}


# ---------------------------------------------------------------- formatting

def fmt_bytes(n):
    if n is None:
        return "—"
    if n >= 10 * MIB:
        return f"{n / 1e6:.1f} MB"
    if n >= 10 * KIB:
        return f"{n / 1e3:.0f} kB"
    return f"{n} B"


def fmt_ratio(r, digits=1):
    return "—" if r is None else f"{r:.{digits}f}×"


def fmt_ms(s):
    return f"{s * 1000:.0f}" if s >= 0.1 else f"{s * 1000:.1f}"


def ratio(a, b):
    bad = lambda v: v is None or v != v or not v  # noqa: E731  (missing, NaN or zero)
    return None if bad(a) or bad(b) else a / b


def targets(res):
    """The issue's targets, each with what this run measured and whether it holds."""
    rows = []

    def row(name, values, ok, note=""):
        rows.append({"target": name, "measured": values, "ok": ok, "note": note})

    fifty = [(fr["file"], w) for fr in res["files"] for w in fr["windows"] if w["label"].startswith("50ms")]
    ones = [(fr["file"], w) for fr in res["files"] for w in fr["windows"] if w["label"].startswith("1s")]
    by = lambda w: {r["key"]: r["result"] for r in w["readers"]}  # noqa: E731
    name = lambda f: f.replace("big_dsec_", "").replace(".h5", "")  # noqa: E731
    short = lambda f, w: f"{name(f)} {w['label']}"  # noqa: E731
    rounds = [(short(f, w), by(w)["strobe_http"].get("rounds")) for f, w in fifty]
    br = res.get("browser") or {"files": []}
    page_cold = [(name(b["file"]) + " page", b["seek"]["cold"]["rounds"])
                 for b in br["files"] if b.get("seek")]
    allr = rounds + page_cold
    row("cold first window ≤ 4 rounds", ", ".join(f"{k}: {v}" for k, v in allr),
        all(v is not None and v <= 4 for _, v in allr))
    fl = [(short(f, w), ratio(by(w)["strobe_http"].get("bytes"), w["floor"]["bytes"])) for f, w in fifty]
    row("cold first window ≤ 1.25× floor bytes", ", ".join(f"{k}: {fmt_ratio(v, 2)}" for k, v in fl),
        all(v is not None and v <= 1.25 for _, v in fl))
    seeks = [(name(b["file"]), b["seek"]["rounds"])
             for b in br["files"] if b.get("seek")]
    row("warm seek ≤ 2 rounds", ", ".join(f"{k}: {v}" for k, v in seeks) or "not measured",
        bool(seeks) and all(v <= 2 for _, v in seeks))
    allw = fifty + ones
    inproc = [(short(f, w), w["ratios"].get("inproc_vs_h5py")) for f, w in allw]
    cold = [(short(f, w), w["ratios"].get("local_vs_h5py")) for f, w in allw]
    row("native decode ≥ 1.0× h5py + hdf5plugin (in-process as h5py is timed; fastest runs)",
        ", ".join(f"{k}: {fmt_ratio(v, 2)}" for k, v in inproc),
        all(v is not None and v >= 1.0 for _, v in inproc),
        "as a cold process (start-up, first page faults) Strobe's wall is "
        + ", ".join(fmt_ratio(v, 2) for _, v in cold) + " of h5py's")
    dec = [(name(b["file"]), b.get("decode_only_vs_h5py"), b["decode_vs_h5py"])
           for b in br["files"]]
    row("wasm decode ≥ 0.5× h5py + hdf5plugin (1 s window, bytes cached)",
        ", ".join(f"{k}: {fmt_ratio(a, 2)}" for k, a, _ in dec) or "not measured",
        bool(dec) and all(a is not None and a >= 0.5 for _, a, _ in dec),
        "decode = read + decode + digest, what h5py does; with counting into the page's frame too: "
        + ", ".join(fmt_ratio(b, 2) for _, _, b in dec))
    mem = [(name(b["file"]), b["scrub"]["memory"] / 1e6) for b in br["files"]]
    row("wasm memory ≤ 96 MB after the whole-file scrub", ", ".join(f"{k}: {v:.1f} MB" for k, v in mem)
        or "not measured", bool(mem) and all(v <= 96 for _, v in mem))
    rss = [(short(f, w), by(w)["strobe_local"].get("rss_mb")) for f, w in ones]
    row("native RSS ≤ 100 MB for a 1 s window", ", ".join(f"{k}: {v:.1f} MB" for k, v in rss if v is not None),
        all(v is not None and v <= 100 for _, v in rss))
    ren = [(name(b["file"]),
            max(m["draw_median_ms"] for m in b["render"]["modes"].values()),
            max(m["median_ms"] for m in b["render"]["modes"].values()),
            b["render"]["events"]) for b in br["files"]]
    row("render of a 1 M-event window ≤ 16 ms per frame (slowest mode)",
        ", ".join(f"{k} ({n:,} events): redraw {d:.1f} ms, new frame {u:.1f} ms" for k, d, u, n in ren)
        or "not measured", bool(ren) and all(d <= 16 for _, d, _, _ in ren),
        "redraw = draw + GPU finish (orbit, zoom, mode change); new frame adds the texture upload")
    return rows


KEPT = "<!-- kept: bench/compare.py rewrites everything above this line and keeps what is below -->"


def write_markdown(res, path):
    import chart  # bench/chart.py: the SVG of rounds and bytes against the peers
    svg = os.path.join(os.path.dirname(os.path.abspath(path)), "bench", "chart.svg")
    with open(svg, "w") as fh:
        fh.write(chart.chart(res))
    m, L = res["machine"], []
    L.append("# Benchmarks: Strobe vs h5py")
    L.append("")
    L.append("Generated by `bench/compare.py` (via `bench/run.sh`); do not edit by hand — rerun:")
    L.append("")
    L.append("```")
    L.append(res["command"])
    L.append("```")
    L.append("")
    L.append("![Sequential rounds and bytes ÷ floor, Strobe vs h5py + fsspec](bench/chart.svg)")
    L.append("")
    L.append("(`bench/run.sh` alone first generates the two files into `bench/data` with "
             "`tests/fixtures/make_fixtures.py --big`, ~5 min; with them present the run takes ~3 min "
             "plus the release build.)")
    L.append("")
    g = res["git"]
    L.append(f"- Date: {res['date']} · run took {res['total_s']:.0f} s")
    L.append(f"- Machine (all absolute times are **this machine's**): {m.get('nproc')} cores, "
             f"{m.get('mem_gib')} GiB RAM, {m.get('cpu', '?')}; {m.get('platform')}")
    busy = max(res["loadavg_start"][0], m["loadavg_end"][0]) > 0.5 * (m.get("nproc") or 1)
    L.append(f"- Load average (1 min) at start / end: {res['loadavg_start'][0]} / {m['loadavg_end'][0]}"
             + (" — **the machine was busy with other work; absolute times are noisy, "
                "same-run ratios less so**" if busy else ""))
    L.append(f"- Strobe: `{res['strobe_version']}` at commit {g['commit']}"
             + (" (with uncommitted changes in src/ of the shared work tree)" if g["src_dirty"] else ""))
    v = m["versions"]
    L.append(f"- Peers: h5py {v['h5py']} (HDF5 {v['hdf5']}), hdf5plugin {v['hdf5plugin']}, "
             f"fsspec {v['fsspec']}, aiohttp {v['aiohttp']}, numpy {v['numpy']}, Python {m.get('python')}")
    L.append(f"- Server: `strobe serve` on loopback with `--latency-ms {res['latency_ms']}` "
             "(a fixed delay per request, so every sequential round costs ≥ that much)")
    L.append(f"- Strobe process start-up (`strobe --version`, median): {fmt_ms(res['strobe_startup_s'])} ms, "
             "included in every Strobe wall time (each Strobe run is a fresh, cold process; "
             "h5py runs are timed in-process, without interpreter start-up)")
    L.append("")
    L.append("How to read it: *rounds* are sequential batches of HTTP requests (requests issued while "
             "none is in flight travel together); for h5py + fsspec every request waits for the previous "
             "one, so rounds = requests. *Floor* = compressed bytes of the x/y/t/p chunks that the "
             "window's rows overlap — what any reader must fetch (ms_to_idx and metadata excluded). "
             "Bytes are HTTP body bytes. Wall times are medians of up to 3 runs (1 when a run takes "
             "≥ 3 s); local runs have a warm page cache. *In-process*: `strobe window --repeat "
             f"{LOCAL_WARMUP + LOCAL_RUNS}` opens the file and reads the window "
             f"{LOCAL_WARMUP + LOCAL_RUNS} times in one process and times each inside it (the first "
             f"{LOCAL_WARMUP} are warm-up) — the same thing h5py's row times ({LOCAL_WARMUP} warm-up "
             f"runs, then up to {LOCAL_RUNS} opens + reads in the Python process); the two alternate "
             "twice, pinned to one CPU, and their rows show the median run, the decode-speed ratio "
             "the fastest (this machine's vCPUs slow down by up to 1.5× for seconds at a time; "
             "contention only ever slows a run). *Peak RSS*: the Strobe process's "
             "own peak resident memory (VmHWM, reported by `strobe window --json`). Every reader's digest "
             "(event count, first index, sums of x/y/t/p, positives) is checked against h5py on the "
             "local file. *CPU ms* = user + system CPU time (Strobe: its process; h5py local: all "
             "threads of the Python process), which shows whether a reader used more than one core "
             f"(BLOSC_NTHREADS={res['machine'].get('blosc_nthreads') or 'unset'}).")
    L.append("")
    L.append("## Targets (issue 5), as measured in this run")
    L.append("")
    L.append("| target | measured | holds |")
    L.append("|---|---|:---:|")
    for t in targets(res):
        L.append(f"| {t['target']} | {t['measured']}" + (f" ({t['note']})" if t["note"] else "")
                 + f" | {'yes' if t['ok'] else '**no**'} |")
    L.append("")
    summary = []
    for fr in res["files"]:
        L.append(f"## `{fr['file']}`")
        L.append("")
        L.append(f"{fr['events']:,} events, {fr['bytes'] / 1e6:.0f} MB; chunks "
                 + ", ".join(f"{c}: {n:,}" for c, n in fr["chunk_len"].items()) + " elements.")
        L.append("")
        for w in fr["windows"]:
            fl = w["floor"]
            L.append(f"### {w['label']}: [{w['from']}, {w['to']}) µs — {w['events']:,} events, "
                     f"floor {fmt_bytes(fl['bytes'])} in {fl['chunks']} chunks"
                     + ("" if w["ok"] else " — **FAIL: digests differ**"))
            L.append("")
            L.append("| reader | rounds (sequential) | requests | bytes | ×floor | wall ms | Mev/s | CPU ms | peak RSS MB |")
            L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for r in w["readers"]:
                rd = r["result"]
                http = r["kind"] == "http"
                L.append("| {} | {} | {} | {} | {} | {} | {:.1f} | {} | {} |".format(
                    r["name"],
                    rd.get("rounds", "—") if http else "— (local)",
                    rd.get("requests", "—") if http else "—",
                    fmt_bytes(rd.get("bytes")) if http else "—",
                    fmt_ratio(ratio(rd.get("bytes"), fl["bytes"]), 2) if http else "—",
                    fmt_ms(rd["wall_s"]),
                    w["events"] / rd["wall_s"] / 1e6 if rd["wall_s"] else 0.0,
                    fmt_ms(rd["cpu_s"]) if rd.get("cpu_s") is not None else "—",
                    f"{rd['rss_mb']:.1f}" if rd.get("rss_mb") is not None else "—"))
            L.append("")
            rt = w["ratios"]
            L.append("Ratios, peer ÷ Strobe (same run; > 1× means Strobe is ahead): "
                     + (f"h5py + fsspec 64 KiB / 5 MiB need {fmt_ratio(rt['wall_vs_fsspec_64k'])} / "
                        f"{fmt_ratio(rt['wall_vs_fsspec_5m'])} Strobe's wall time, "
                        f"{fmt_ratio(rt['rounds_vs_fsspec_64k'])} / {fmt_ratio(rt['rounds_vs_fsspec_5m'])} its rounds, "
                        f"{fmt_ratio(rt['bytes_vs_fsspec_64k'], 2)} / {fmt_ratio(rt['bytes_vs_fsspec_5m'], 2)} its bytes; "
                        if rt["wall_vs_fsspec_64k"] is not None else "")
                     + f"on the local file h5py + hdf5plugin needs {fmt_ratio(rt['inproc_vs_h5py'], 2)} Strobe's "
                     f"time in-process (decode speed; fastest runs, {fmt_ratio(rt.get('inproc_median_vs_h5py'), 2)} "
                     f"by medians) and {fmt_ratio(rt['local_vs_h5py'], 2)} of its wall time "
                     f"as a cold process ({fmt_ratio(rt['local_cpu_vs_h5py'], 2)} of its CPU time).")
            L.append("")
            tr = w.get("strobe_trace") or []
            if tr:
                L.append("Strobe's rounds (STROBE_TRACE=1; round: requests bytes): " + " · ".join(
                    f"{t['round']}: {t['requests']} req {fmt_bytes(t['bytes'])}"
                    + (f" @{t['at_ms']} ms" if "at_ms" in t else "")
                    + (" (head read, untraced)" if t.get("untraced") else "") for t in tr)
                    + f" · exit @{w['strobe_trace_wall_ms']:.0f} ms")
                L.append("")
            summary.append((fr["file"], w))
    br = res.get("browser")
    if br:
        L.append("## In the browser: the viewer page (wasm in a Web Worker, headless Chromium)")
        L.append("")
        L.append(f"Chromium {br['chromium']}, software WebGL (no GPU); page and data served on loopback "
                 "without added latency. *Decode*: the 1 s window read again with its bytes in the "
                 "engine's cache — reading and decoding the chunks plus the digest (what h5py does), "
                 "timed by the engine's phase timers — against h5py + hdf5plugin reading the same "
                 "window from the local file; *+ frame* adds counting every event into the page's frame "
                 "(the whole window as the page shows it). *New frame*: texture upload + "
                 "draw + GPU finish of the busiest 50 ms window (~1 M events; the cloud draws its ≤ 65,536-event "
                 "sample), median of 15; *redraw*: draw + finish of the uploaded frame, as when orbiting, "
                 "zooming or changing mode. *Scrub*: "
                 "every 50 ms window from the first event to the last, each drawn, with the HTTP requests "
                 "and bytes it cost (floor: every chunk of the four columns); h5py's scrub reads "
                 "the same windows from the local file with one open file (no drawing).")
        L.append("")
        L.append("| file | 1 s window events | wasm decode Mev/s | + frame Mev/s | h5py Mev/s | "
                 "wasm ÷ h5py: decode (target ≥ 0.5) / + frame | "
                 "cold 1 s window ms (rounds) | new frame ms (upload + draw) polarity / heatmap / time surface / cloud "
                 "| redraw ms (target ≤ 16) | scrub windows, s (h5py s) | scrub requests, bytes ÷ floor "
                 "| wasm memory after scrub MB (target ≤ 96) |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|")
        for b in br["files"]:
            one, r, sc = b["one_s"], b["render"]["modes"], b["scrub"]
            net, sfl = sc.get("net") or {}, (b.get("scrub_floor") or {}).get("bytes")
            L.append("| {} | {:,} | {:.1f} | {:.1f} | {:.1f} | {} / {:.2f}× | {:.0f} ({}) | {} | {} | {} in {:.1f} ({:.1f}) | {} | {:.1f} |".format(
                b["file"].replace(".h5", ""), one["cold"]["events"],
                (one.get("decode_events_per_s") or float("nan")) / 1e6, one["events_per_s"] / 1e6,
                b["h5py_events_per_s"] / 1e6, fmt_ratio(b.get("decode_only_vs_h5py"), 2),
                b["decode_vs_h5py"], one["cold"]["window_ms"],
                one["cold"]["net"]["rounds"],
                " / ".join(f"{r[m]['median_ms']:.1f}" for m in ("polarity", "heatmap", "timesurface", "cloud")),
                " / ".join(f"{r[m].get('draw_median_ms', float('nan')):.1f}"
                           for m in ("polarity", "heatmap", "timesurface", "cloud")),
                sc["windows"], sc["wall_ms"] / 1000, b["h5py_scrub"]["wall_s"],
                f"{net.get('requests', '—')}, {fmt_ratio(ratio(net.get('bytes'), sfl), 2)}",
                sc["memory"] / 1e6))
        L.append("")
    if br and any(b.get("seek") for b in br["files"]):
        L.append("## Warm seek (one open recording, 50 ms windows, latency server)")
        L.append("")
        L.append("From `50ms_unaligned_middle` to `50ms_busiest` of the same open file: Strobe in the page "
                 "(wasm), h5py + fsspec through one open file object (its block cache warm). Target: "
                 "Strobe ≤ 2 rounds.")
        L.append("")
        L.append("| file | reader | rounds | requests | bytes | wall ms |")
        L.append("|---|---|---:|---:|---:|---:|")
        for b in br["files"]:
            sk = b.get("seek")
            if not sk:
                continue
            name = b["file"].replace(".h5", "")
            L.append(f"| {name} | **Strobe** (page) | {sk['rounds']} | {sk['requests']} | "
                     f"{fmt_bytes(sk['bytes'])} | {sk['ms']:.0f} |")
            for key, label in (("fsspec_64k", "h5py + fsspec, 64 KiB"), ("fsspec_5m", "h5py + fsspec, 5 MiB")):
                r = b.get("seek_peers", {}).get(key)
                if r:
                    L.append(f"| {name} | {label} | {r['rounds']} | {r['requests']} | "
                             f"{fmt_bytes(r['bytes'])} | {fmt_ms(r['wall_s'])} |")
        L.append("")
    L.append("## Summary (ratios measured in this run)")
    L.append("")
    L.append("| file | window | events | Strobe rounds | Strobe wall ms | h5py+fsspec 64 KiB wall ÷ Strobe | "
             "5 MiB wall ÷ Strobe | Strobe ×floor | 64 KiB ×floor | 5 MiB ×floor | local: h5py ÷ Strobe in-process | "
             "local: h5py ÷ Strobe cold process |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for fname, w in summary:
        by = {r["key"]: r["result"] for r in w["readers"]}
        rt, fl = w["ratios"], w["floor"]["bytes"]
        L.append("| {} | {} | {:,} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            fname.replace(".h5", ""), w["label"], w["events"], by["strobe_http"]["rounds"],
            fmt_ms(by["strobe_http"]["wall_s"]),
            fmt_ratio(rt["wall_vs_fsspec_64k"]), fmt_ratio(rt["wall_vs_fsspec_5m"]),
            fmt_ratio(ratio(by["strobe_http"]["bytes"], fl), 2),
            fmt_ratio(ratio(by.get("fsspec_64k", {}).get("bytes"), fl), 2),
            fmt_ratio(ratio(by.get("fsspec_5m", {}).get("bytes"), fl), 2),
            fmt_ratio(rt["inproc_vs_h5py"], 2), fmt_ratio(rt["local_vs_h5py"], 2)))
    L.append("")
    if res["fails"]:
        L.append("## FAILURES")
        L.append("")
        for f in res["fails"]:
            L.append(f"- {f}")
        L.append("")
    else:
        L.append("All digests agreed (Strobe over HTTP and local, h5py + fsspec at both block sizes, "
                 "h5py local, and the manifest where it has the window).")
        L.append("")
    from playback_md import playback_section  # bench/playback_md.py
    L.extend(playback_section(res.get("browser"), res["latency_ms"]))
    # Sections below KEPT in the existing file (written by hand or by other scripts, e.g. the
    # Python loaders' and a playback-only run's) survive a rewrite as they are.
    try:
        with open(path) as fh:
            old = fh.read()
    except FileNotFoundError:
        old = ""
    if KEPT in old:
        L.append(KEPT + old.split(KEPT, 1)[1].rstrip("\n"))
        L.append("")
    with open(path, "w") as fh:
        fh.write("\n".join(L))


# ---------------------------------------------------------------- main

def clean_nan(o):
    """NaN (a reader that failed) as null, so results.json stays valid JSON."""
    if isinstance(o, float) and o != o:
        return None
    if isinstance(o, dict):
        return {k: clean_nan(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean_nan(v) for v in o]
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="directory with manifest.json and the big files")
    ap.add_argument("--base-url", help="URL under which DATA's files are served")
    ap.add_argument("--strobe", help="the strobe binary")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--json", default="bench/results.json")
    ap.add_argument("--md", default="BENCHMARKS.md")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="only rewrite --md from an earlier results.json (no measuring)")
    ap.add_argument("--only", default="", help="only files whose name contains this (development)")
    ap.add_argument("--site-url", help="the viewer page and DATA under /data/, served without added "
                    "latency (bench/run.sh starts it); enables the browser (wasm) part")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()
    if args.render:
        write_markdown(json.load(open(args.render)), args.md)
        return 0
    if not (args.data and args.base_url and args.strobe):
        ap.error("--data, --base-url and --strobe are required (unless --render)")
    t_start = time.time()
    load_start = [round(v, 2) for v in os.getloadavg()]

    manifest = json.load(open(os.path.join(args.data, "manifest.json")))
    bigs = [e for e in manifest["fixtures"] if e.get("big") and args.only in e["file"]]
    if not bigs:
        sys.exit(f"compare: no big fixtures in {args.data}/manifest.json (run make_fixtures.py --big)")
    base = args.base_url.rstrip("/")
    wait_for_server(f"{base}/{bigs[0]['file']}")

    startup = []
    for _ in range(5):
        s = time.perf_counter()
        subprocess.run([args.strobe, "--version"], capture_output=True, check=True)
        startup.append(time.perf_counter() - s)
    version = subprocess.run([args.strobe, "--version"], capture_output=True, text=True).stdout.strip()

    files = []
    for e in bigs:
        path = os.path.join(args.data, e["file"])
        url = f"{base}/{e['file']}"
        log(f"== {e['file']}")
        warm_page_cache(path)
        tables = chunk_tables(path)
        wins = {w["label"]: w for w in e["windows"]}
        chosen = [(lab, wins[lab]["from"], wins[lab]["to"], wins[lab]) for lab in MANIFEST_WINDOWS if lab in wins]
        if "50ms_unaligned_middle" in wins:
            a = wins["50ms_unaligned_middle"]["from"]
            chosen.append((ONE_S_LABEL, a, a + 1_000_000, None))
        busiest = busiest_second(path)
        if busiest:
            chosen.append((BUSIEST_1S_LABEL, busiest[0], busiest[1], None))
        fr = {"file": e["file"], "events": e["info"]["events"], "bytes": e["bytes"],
              "chunk_len": {c: tables[c][0] for c in COLUMNS}, "windows": []}
        for label, t0, t1, mwin in chosen:
            log(f"   {label} [{t0}, {t1})")
            where = f"{e['file']} {label}"
            ref, inproc = local_in_process(args.strobe, path, t0, t1)
            dig = ref["digest"]
            if mwin is not None:
                check("manifest", mwin, dig, where)  # the generator's numpy oracle vs this h5py read
            readers = []

            def add(key, name, kind, fn):
                log(f"      {name} …")
                try:
                    r = fn()
                except Exception as ex:  # noqa: BLE001  (record and keep measuring the others)
                    fail(f"{where}: {name} raised {type(ex).__name__}: {ex}")
                    r = {"digest": {}, "wall_s": float("nan"), "error": str(ex)}
                ok = check(name, r["digest"], dig, where) if "error" not in r else False
                readers.append({"key": key, "name": name, "kind": kind, "ok": ok, "result": r})
                log(f"        {r['wall_s'] * 1000:.0f} ms, rounds {r.get('rounds')}, "
                    f"requests {r.get('requests')}, bytes {r.get('bytes')}")
                return r

            traced = strobe_window(args.strobe, url, t0, t1, trace=True)  # cold; trace of the rounds
            add("strobe_http", "**Strobe** (HTTP, cold process)", "http",
                lambda: repeat(lambda: strobe_window(args.strobe, url, t0, t1)))
            if label != BUSIEST_1S_LABEL:  # h5py + fsspec take ~40 s per 1 s window: once is enough
                add("fsspec_64k", "h5py + fsspec, 64 KiB blocks", "http",
                    lambda: repeat(lambda: h5py_http(url, t0, t1, 64 * KIB)))
                add("fsspec_5m", "h5py + fsspec, 5 MiB blocks", "http",
                    lambda: repeat(lambda: h5py_http(url, t0, t1, 5 * MIB)))
            add("strobe_local", "**Strobe** (local file, cold process)", "local",
                lambda: repeat(lambda: strobe_window(args.strobe, path, t0, t1), warmup=1))
            add("strobe_inproc", "**Strobe** (local file, in-process)", "local", lambda: inproc)
            readers.append({"key": "h5py_local", "name": "h5py + hdf5plugin (local file)", "kind": "local",
                            "ok": True, "result": ref})
            by = {r["key"]: r["result"] for r in readers}
            s = by["strobe_http"]
            nan = {"wall_s": float("nan")}
            f64k, f5m = by.get("fsspec_64k", nan), by.get("fsspec_5m", nan)
            rt = {
                "wall_vs_fsspec_64k": ratio(f64k["wall_s"], s["wall_s"]),
                "wall_vs_fsspec_5m": ratio(f5m["wall_s"], s["wall_s"]),
                "rounds_vs_fsspec_64k": ratio(f64k.get("rounds"), s.get("rounds")),
                "rounds_vs_fsspec_5m": ratio(f5m.get("rounds"), s.get("rounds")),
                "bytes_vs_fsspec_64k": ratio(f64k.get("bytes"), s.get("bytes")),
                "bytes_vs_fsspec_5m": ratio(f5m.get("bytes"), s.get("bytes")),
                "local_vs_h5py": ratio(by["h5py_local"]["wall_s"], by["strobe_local"]["wall_s"]),
                "local_cpu_vs_h5py": ratio(by["h5py_local"].get("cpu_s"), by["strobe_local"].get("cpu_s")),
                "inproc_vs_h5py": ratio(by["h5py_local"].get("best_s"), by["strobe_inproc"].get("best_s")),
                "inproc_median_vs_h5py": ratio(by["h5py_local"]["wall_s"], by["strobe_inproc"]["wall_s"]),
            }
            fr["windows"].append({
                "label": label, "from": t0, "to": t1, "events": dig["events"],
                "first_index": dig["first_index"], "digest": dig,
                "floor": floor_bytes(tables, dig["first_index"], dig["first_index"] + dig["events"]),
                "readers": readers, "ratios": rt, "strobe_trace": traced.get("trace"),
                "strobe_trace_wall_ms": traced["wall_s"] * 1000,
                "ok": all(r["ok"] for r in readers) and not any(where in f for f in FAILS),
            })
        files.append(fr)

    browser = None
    if args.site_url:
        log("== the page in headless Chromium (wasm)")
        browser = browser_bench(args.repo, args.site_url, bigs, base)
        if browser:
            by_file = {fr["file"]: fr for fr in files}
            for b in browser["files"]:
                fr = by_file[b["file"]]
                e = next(x for x in bigs if x["file"] == b["file"])
                one = next(w for w in fr["windows"] if w["label"] == ONE_S_LABEL)
                h5 = next(r["result"] for r in one["readers"] if r["key"] == "h5py_local")
                b["h5py_events_per_s"] = one["events"] / h5["wall_s"]
                b["decode_vs_h5py"] = b["one_s"]["events_per_s"] / b["h5py_events_per_s"]
                b["decode_only_vs_h5py"] = ratio(b["one_s"].get("decode_events_per_s"), b["h5py_events_per_s"])
                if b["one_s"]["cold"]["digest"]["events"] != one["events"]:
                    fail(f"{b['file']}: the page's 1 s window has {b['one_s']['cold']['digest']['events']} "
                         f"events, h5py {one['events']}")
                if b["scrub"]["events"] != e["info"]["events"]:
                    fail(f"{b['file']}: the page's scrub saw {b['scrub']['events']} events of "
                         f"{e['info']['events']}")
                wins = {w["label"]: w for w in e["windows"]}
                mid, busy = wins["50ms_unaligned_middle"], wins["50ms_busiest"]
                first, second = (mid["from"], mid["to"]), (busy["from"], busy["to"])
                url = f"{base}/{b['file']}"
                b["seek_peers"] = {}
                for key, block in (("fsspec_64k", 64 * KIB), ("fsspec_5m", 5 * MIB)):
                    log(f"   warm seek, h5py + fsspec {key} …")
                    r = h5py_http_seek(url, first, second, block)
                    check(f"h5py + fsspec {key} warm seek", r["digest"], dsec_digest_of(busy), b["file"])
                    b["seek_peers"][key] = r
                if b.get("seek"):
                    check("page warm seek", b["seek"]["digest"], dsec_digest_of(busy), b["file"])
                tables = chunk_tables(os.path.join(args.data, b["file"]))
                b["scrub_floor"] = floor_bytes(tables, 0, e["info"]["events"])
                log(f"   h5py scrub of {b['file']} …")
                b["h5py_scrub"] = h5py_scrub(os.path.join(args.data, b["file"]), 50_000)
                log(f"     {b['h5py_scrub']['wall_s']:.1f} s")

    res = {
        "browser": browser,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command, "machine": machine(), "git": git_state(args.repo),
        "strobe_version": version, "strobe_startup_s": statistics.median(startup),
        "latency_ms": args.latency_ms, "base_url": base, "loadavg_start": load_start, "files": files, "fails": FAILS,
        "total_s": time.time() - t_start,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as fh:
        json.dump(clean_nan(res), fh, indent=1)
        fh.write("\n")
    write_markdown(res, args.md)
    log(f"compare: wrote {args.json} and {args.md} in {res['total_s']:.0f} s")
    if FAILS:
        print(f"FAIL: {len(FAILS)} digest mismatch(es) — see {args.md}", flush=True)
        return 1
    print("compare: all digests agree", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
