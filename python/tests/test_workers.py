"""The DataLoader contract without torch: pickled datasets in fork and spawn worker processes,
sampler-style rank splits, and flat memory over many windows."""

import multiprocessing as mp

import numpy as np
import pytest

import strobe
from conftest import FIXTURES, vm_rss_kb

# A worker that hangs (a fork that inherited a thread pool without its threads) fails the test
# after this long instead of stalling the run.
TIMEOUT_S = 120

SOURCES = [str(FIXTURES / f) for f in ("dsec_full_bitshuffle.h5", "m3ed.h5", "prophesee_gzip.h5")]


def digest(sample):
    return (sample["source"], sample["t0"], len(sample["t"]),
            int(sample["t"].sum()), int(sample["p"].astype(np.int64).sum()), float(sample["x"].sum()))


def read(args):
    ds, index = args
    return digest(ds[index])


_INHERITED = None  # fork workers inherit this (torch's DataLoader passes its dataset this way)


def read_inherited(index):
    return digest(_INHERITED[index])


def read_shard(args):
    stream, worker, workers = args
    return [digest(s) for s in stream.iter_shard(worker, workers)]


def dataset():
    ds = strobe.EventWindows(SOURCES, "100ms", random=True, windows_per_epoch=24, seed=11)
    ds.set_epoch(2)
    return ds


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_return_the_single_process_samples(method):
    global _INHERITED
    ds = dataset()
    ds[0]  # the parent's engine thread exists before the fork: children must not inherit it
    single = [digest(ds[i]) for i in range(len(ds))]
    with mp.get_context(method).Pool(2) as pool:
        got = pool.map_async(read, [(ds, i) for i in range(len(ds))], chunksize=3).get(TIMEOUT_S)  # pickled
    assert got == single
    if method == "fork":
        _INHERITED = ds  # not pickled: the children hold the parent's opened recordings
        try:
            with mp.get_context("fork").Pool(2) as pool:
                assert pool.map_async(read_inherited, range(len(ds)), chunksize=3).get(TIMEOUT_S) == single
        finally:
            _INHERITED = None


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_stream_workers_cover_everything_once(method):
    stream = strobe.WindowStream(SOURCES, "100ms", prefetch=2)
    with mp.get_context(method).Pool(2) as pool:
        shards = pool.map_async(read_shard, [(stream, w, 2) for w in range(2)]).get(TIMEOUT_S)
    got = sorted(d for shard in shards for d in shard)
    expected = sorted(digest(s) for s in stream)
    assert got == expected and len(got) == len(stream)


def test_two_ranks_see_every_window_once():
    ds = dataset()
    # DistributedSampler(shuffle=False) gives rank r the indices r, r + world, ...
    ranks = [[digest(ds[i]) for i in range(r, len(ds), 2)] for r in range(2)]
    assert sorted(ranks[0] + ranks[1]) == sorted(digest(ds[i]) for i in range(len(ds)))
    assert not set(ranks[0]) & set(ranks[1])


def test_rss_stays_flat_over_many_random_windows():
    ds = strobe.EventWindows(SOURCES[:1], "200ms", random=True, windows_per_epoch=300, seed=5)
    largest = 0
    for i in range(30):  # warm up: caches, allocator arenas
        s = ds[i]
        largest = max(largest, sum(s[c].nbytes for c in ("x", "y", "t", "p")))
    base = vm_rss_kb()
    peak = base
    for i in range(30, len(ds)):
        s = ds[i]
        largest = max(largest, sum(s[c].nbytes for c in ("x", "y", "t", "p")))
        del s
        peak = max(peak, vm_rss_kb())
    growth_kb = peak - base
    assert growth_kb * 1024 <= 2 * largest + (16 << 20), (growth_kb, largest)
