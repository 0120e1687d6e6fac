#!/usr/bin/env python3
"""Oracle mode: mutate valid recordings and compare Strobe's window digest with libhdf5's.

For every mutant that h5py (libhdf5) reads, Strobe must return the same window digest or a
clear one-line error — never a different digest. Each mutant is classed:

  same            Strobe's digest = h5py's
  refused         h5py reads it, Strobe refuses with a one-line error (class = the error's kind)
  h5py-refuses    libhdf5 refuses it too (Strobe's answer is recorded, any is acceptable)
  DIFFERENT       h5py reads it, Strobe returns another digest: a bug
  CRASH / HANG    Strobe panicked, died or ran past the deadline: a bug
  MULTILINE       Strobe's refusal is not one line: a bug

Usage (in the venv; STROBE = the built `strobe` binary):
  .venv/bin/python fuzz/oracle/oracle.py --strobe target/debug/strobe --mutants 40 \
      --out /tmp/oracle [--save tests/data/fuzz/oracle]

Seeds are the 20 tiny recordings of fuzz/seeds/make_seeds.py (every chunk index, layout and
filter). Mutations: bit flips and byte sets near HDF5 structure signatures and anywhere,
field-sized overwrites with boundary values, truncation, and splicing (a structure's bytes
copied over another's, or from another seed at the same offset). Deterministic per --seed.
"""

import argparse
import collections
import importlib.util
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SIGNATURES = [b"\x89HDF\r\n\x1a\n", b"OHDR", b"OCHK", b"TREE", b"HEAP", b"SNOD", b"BTHD", b"BTIN",
              b"BTLF", b"FAHD", b"FADB", b"EAHD", b"EAIB", b"EASB", b"EADB", b"FRHP", b"FHDB",
              b"FHIB", b"GCOL"]
# A full-file window and one in the middle of the seed recordings' events.
WINDOWS = [(-(1 << 62), 1 << 62), (2000, 5000)]
COLUMNS = ("x", "y", "t", "p")


# ---------------------------------------------------------------------------------------------
# h5py side (run in a worker process: libhdf5 may misbehave on hostile files)
# ---------------------------------------------------------------------------------------------

def exact_sum(a):
    return int(sum(int(v) for v in a.astype(object))) if a.size else 0


def h5py_digests(path):
    """h5py's digest of each window, or ("refuses", message). Also facts that tell which other
    issue a difference would belong to (unsorted t, unequal lengths)."""
    import h5py
    import hdf5plugin  # noqa: F401  (registers the filters)
    try:
        with h5py.File(path, "r") as f:
            cols = {k: np.asarray(f["events"][k][()]) for k in COLUMNS}
    except Exception as e:  # noqa: BLE001 — any refusal by libhdf5 is an outcome
        return {"refuses": f"{type(e).__name__}: {e}"[:300]}
    facts = {
        "lengths": sorted({len(v) for v in cols.values()}),
        "dtypes": {k: str(v.dtype) for k, v in cols.items()},
        "t_sorted": bool(np.all(np.diff(cols["t"].astype(np.int64)) >= 0)) if cols["t"].size else True,
        "p_range": [int(cols["p"].min()), int(cols["p"].max())] if cols["p"].size else [0, 0],
    }
    n = min(len(v) for v in cols.values())
    c = {k: v[:n] for k, v in cols.items()}
    t = c["t"].astype(object)
    out = []
    for a, b in WINDOWS:
        m = np.array([(a <= v < b) for v in t], dtype=bool)
        idx = np.nonzero(m)[0]
        out.append({
            "events": int(m.sum()),
            "first_index": int(idx[0]) if idx.size else None,
            "sum_x": exact_sum(c["x"][m]), "sum_y": exact_sum(c["y"][m]),
            "sum_t": exact_sum(c["t"][m]), "sum_p": exact_sum(c["p"][m]),
            "positive": int(np.count_nonzero(c["p"][m] > 0)),
        })
    return {"digests": out, "facts": facts}


class H5pyWorker:
    """One worker process for h5py, replaced when it hangs or dies."""

    def __init__(self):
        self.pool = mp.get_context("spawn").Pool(1)

    def run(self, path, timeout=30):
        try:
            return self.pool.apply_async(h5py_digests, (path,)).get(timeout)
        except mp.TimeoutError:
            self.restart()
            return {"refuses": "h5py hung"}
        except Exception as e:  # noqa: BLE001 — the worker died (libhdf5 crashed)
            self.restart()
            return {"refuses": f"h5py died: {e}"}

    def restart(self):
        self.pool.terminate()
        self.pool = mp.get_context("spawn").Pool(1)


# ---------------------------------------------------------------------------------------------
# Strobe side
# ---------------------------------------------------------------------------------------------

def strobe_digest(strobe, path, window, timeout=60):
    a, b = window
    try:
        r = subprocess.run([strobe, "window", path, "--from", str(a), "--to", str(b), "--json"],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"hang": True}
    if r.returncode == 0:
        d = json.loads(r.stdout)
        return {"digest": {k: d.get(k) for k in ("events", "first_index", "sum_x", "sum_y", "sum_t",
                                                   "sum_p", "positive")}}
    err = r.stderr.strip()
    crashed = r.returncode < 0 or "panicked" in err or r.returncode == 101
    return {"error": err, "crash": crashed}


def normalise(d):
    if d is None:
        return None
    out = {}
    for k, v in d.items():
        out[k] = int(v) if isinstance(v, str) and re.fullmatch(r"-?\d+", v) else v
    if out.get("events") == 0:
        out["first_index"] = None  # where an empty window starts is not part of the oracle
    return out


def error_kind(message):
    """A refusal's class: its message with file names, numbers and offsets taken out."""
    m = message.splitlines()[-1] if message else ""
    m = re.sub(r"^(error: )?", "", m)
    m = re.sub(r"/\S+\.h5:?", "FILE", m)
    m = re.sub(r"\b0x[0-9a-f]+\b", "N", m)
    m = re.sub(r"-?\d+", "N", m)
    m = re.sub(r"\"[^\"]*\"", "\"…\"", m)
    return m[:160]


# ---------------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------------

def structure_offsets(data):
    found = []
    for sig in SIGNATURES:
        start = 0
        while True:
            i = data.find(sig, start)
            if i < 0:
                break
            found.append((i, sig))
            start = i + 1
    return sorted(found)


BOUNDARY = [0, 1, 0xFF, 0x7F, 0x80]
FIELD_VALUES = [0, 1, 2, 0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFFFFFFFFFFF, 64, 4096]


def mutate(data, rng, others):
    """One mutant of `data` and a short description of what was done."""
    d = bytearray(data)
    structs = structure_offsets(data)
    kind = rng.choice(["bitflip-struct", "bitflip-struct", "byte-struct", "field-struct",
                       "bitflip-any", "byte-any", "truncate", "splice-struct", "splice-seed"])
    def near_struct(span=96):
        if not structs:
            return rng.randrange(len(d))
        at, _ = rng.choice(structs)
        return min(len(d) - 1, at + rng.randrange(span))
    if kind.startswith("bitflip"):
        n = rng.choice([1, 1, 2, 3])
        where = []
        for _ in range(n):
            i = near_struct() if kind == "bitflip-struct" else rng.randrange(len(d))
            bit = rng.randrange(8)
            d[i] ^= 1 << bit
            where.append(f"{i}.{bit}")
        return bytes(d), f"{kind} {' '.join(where)}"
    if kind.startswith("byte"):
        i = near_struct() if kind == "byte-struct" else rng.randrange(len(d))
        v = rng.choice(BOUNDARY + [rng.randrange(256)])
        d[i] = v
        return bytes(d), f"{kind} {i}={v}"
    if kind == "field-struct":
        i = near_struct(64)
        size = rng.choice([2, 4, 8])
        v = rng.choice(FIELD_VALUES) & ((1 << (8 * size)) - 1)
        if rng.random() < 0.5:
            old = int.from_bytes(d[i:i + size].ljust(size, b"\0"), "little")
            v = (old + rng.choice([-1, 1, 2, -8, 64])) & ((1 << (8 * size)) - 1)
        d[i:i + size] = v.to_bytes(size, "little")[: max(0, len(d) - i)]
        return bytes(d[: len(data)]), f"{kind} {i}:{size}={v}"
    if kind == "truncate":
        cut = rng.randrange(max(1, len(d)))
        return bytes(d[:cut]), f"truncate {cut}"
    if kind == "splice-struct" and len(structs) >= 2:
        (a, _), (b, _) = rng.sample(structs, 2)
        n = rng.choice([8, 16, 32, 64, 128])
        piece = data[a:a + n]
        d[b:b + len(piece)] = piece
        return bytes(d[: len(data)]), f"splice {a}->{b}:{n}"
    other = rng.choice(others)
    at = rng.randrange(min(len(d), len(other)))
    n = rng.choice([16, 64, 256, 1024])
    piece = other[at:at + n]
    d[at:at + len(piece)] = piece
    return bytes(d[: len(data)]), f"splice-seed {at}:{n}"


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------

def classify(h5, strobe_results):
    """Outcome class of one mutant, from h5py's answer and Strobe's per window."""
    if "refuses" in h5:
        if any(r.get("crash") for r in strobe_results):
            return "CRASH", None
        if any(r.get("hang") for r in strobe_results):
            return "HANG", None
        return "h5py-refuses", None
    for want, got in zip(h5["digests"], strobe_results):
        if got.get("hang"):
            return "HANG", None
        if got.get("crash"):
            return "CRASH", got["error"]
        if "error" in got:
            if "\n" in got["error"].strip():
                return "MULTILINE", got["error"]
            return "refused", error_kind(got["error"])
        if normalise(got["digest"]) != normalise(want):
            facts = h5["facts"]
            why = []
            if len(facts["lengths"]) > 1:
                why.append("columns of unequal lengths (issue 12 item 2)")
            if not facts["t_sorted"]:
                why.append("t not sorted (issue 12 item 3)")
            if facts["p_range"][1] > 127 or facts["p_range"][0] < -128:
                why.append("p outside int8 (issue 12 item 1)")
            return "DIFFERENT", "; ".join(why) or "unexplained"
    return "same", None


def load_seeds(seed_dir):
    spec = importlib.util.spec_from_file_location("make_seeds", os.path.join(REPO, "fuzz/seeds/make_seeds.py"))
    seeds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seeds)
    os.makedirs(seed_dir, exist_ok=True)
    out = {}
    for name, make in seeds.SEEDS.items():
        path = os.path.join(seed_dir, name + ".h5")
        if not os.path.exists(path):
            make(path)
        with open(path, "rb") as f:
            out[name] = f.read()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strobe", default=os.path.join(REPO, "target/debug/strobe"))
    ap.add_argument("--mutants", type=int, default=40, help="mutants per seed")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--out", default="/tmp/strobe-oracle")
    ap.add_argument("--only", help="comma-separated seed names")
    ap.add_argument("--save", help="corpus dir: saves every DIFFERENT and a sample of refusals")
    ap.add_argument("--sample", type=int, default=1, help="refusals saved per error class")
    ap.add_argument("--per-seed", type=int, default=1,
                    help="'same' and 'h5py refuses' mutants saved per seed recording")
    ap.add_argument("--pending-sample", type=int, default=2,
                    help="DIFFERENT mutants of a class another issue-12 item fixes, saved per class")
    ap.add_argument("--keep", default="", help="comma-separated mutant names to save whatever their class")
    args = ap.parse_args()

    seeds = load_seeds(os.path.join(args.out, "seeds"))
    if args.only:
        seeds = {k: v for k, v in seeds.items() if k in args.only.split(",")}
    mdir = os.path.join(args.out, "mutants")
    shutil.rmtree(mdir, ignore_errors=True)
    os.makedirs(mdir)
    worker = H5pyWorker()
    rng = random.Random(args.seed)
    counts = collections.Counter()
    kinds = collections.Counter()
    records = []
    saved_per_kind = collections.Counter()
    others = list(seeds.values())
    keep_names = set(filter(None, args.keep.split(",")))
    for name, data in seeds.items():
        for i in range(args.mutants):
            mutant, how = mutate(data, rng, others)
            path = os.path.join(mdir, f"{name}-s{args.seed}-{i:03d}.h5")
            with open(path, "wb") as f:
                f.write(mutant)
            h5 = worker.run(path)
            got = [strobe_digest(args.strobe, path, w) for w in WINDOWS]
            cls, detail = classify(h5, got)
            counts[cls] += 1
            if cls == "refused":
                kinds[detail] += 1
            rec = {"file": os.path.basename(path), "seed": name, "mutation": how, "class": cls,
                   "detail": detail}
            records.append(rec)
            if cls not in ("same", "h5py-refuses", "refused") or os.environ.get("ORACLE_VERBOSE"):
                print(f"{cls:12s} {rec['file']} {how} :: {detail} :: "
                      f"{[g.get('error', g.get('digest')) for g in got]}", flush=True)
            if args.save:
                pending = detail if cls == "DIFFERENT" and detail != "unexplained" else None
                keep = rec["file"] in keep_names
                if cls in ("CRASH", "HANG", "MULTILINE") or (cls == "DIFFERENT" and not pending):
                    keep = True
                elif pending and saved_per_kind["pending", pending] < args.pending_sample:
                    keep = True
                    saved_per_kind["pending", pending] += 1
                elif cls == "refused" and saved_per_kind[detail] < args.sample:
                    keep = True
                    saved_per_kind[detail] += 1
                elif cls in ("same", "h5py-refuses") and saved_per_kind[cls, name] < args.per_seed:
                    keep = True
                    saved_per_kind[cls, name] += 1
                if keep:
                    save(args.save, rec["file"], how, mutant, h5, pending)
    worker.pool.terminate()
    total = sum(counts.values())
    summary = {"mutants": total, "classes": dict(counts), "refusals": dict(kinds.most_common())}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"summary": summary, "records": records}, f, indent=1)
    print(json.dumps(summary, indent=1))
    return 1 if any(c in counts for c in ("DIFFERENT", "CRASH", "HANG", "MULTILINE")) else 0


def save(corpus, name, how, mutant, h5, pending=None):
    """Writes the mutant and its h5py answer into the committed corpus (manifest.json)."""
    os.makedirs(corpus, exist_ok=True)
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(mutant)
    manifest_path = os.path.join(corpus, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    entry = {"mutation": how, "windows": [list(w) for w in WINDOWS]}
    if pending:
        entry["pending"] = pending  # another item of issue 12 fixes this class
    if "refuses" in h5:
        entry["h5py"] = "refuses"
    else:
        entry["h5py"] = [{k: (str(v) if isinstance(v, int) and not -(1 << 63) <= v < (1 << 63) else v)
                          for k, v in d.items()} for d in h5["digests"]]
    manifest[name] = entry
    with open(manifest_path, "w") as f:
        json.dump(dict(sorted(manifest.items())), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
