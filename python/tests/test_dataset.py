"""EventWindows (tiling, random epochs), WindowStream (shards, prefetch) and collate."""

import pickle

import numpy as np
import pytest

import strobe
from conftest import FIXTURES, READABLE, oracle

FILES = ["dsec_full_bitshuffle.h5", "tumvie.h5", "rvt.h5", "compact.h5"]


def sources():
    return [str(FIXTURES / f) for f in FILES]


def test_tiling_sums_to_each_files_events():
    ds = strobe.EventWindows(sources(), "100ms", polarity="stored", normalize=False)
    per_file = {}
    for i in range(len(ds)):
        s = ds[i]
        assert s["t1"] - s["t0"] == 100_000
        assert np.all((s["t"] >= s["t0"]) & (s["t"] < s["t1"]))
        per_file[s["source"]] = per_file.get(s["source"], 0) + len(s["t"])
    for rec in ds.recordings:
        assert per_file[rec.source] == rec.events
    fixture = next(f for f in READABLE if f["file"] == "tumvie.h5")
    assert per_file[str(FIXTURES / "tumvie.h5")] == len(oracle(fixture)[2])


def test_directory_opens_every_recording_and_skips_bad_ones():
    with pytest.raises(strobe.FormatError):
        strobe.EventWindows(FIXTURES, "1s")
    ds = strobe.EventWindows(FIXTURES, "1s", on_error="skip")
    skipped = {name.rsplit("/", 1)[-1] for name, _ in ds.skipped}
    assert {"not_hdf5.h5", "no_events.h5", "unsupported_bzip2.h5", "prophesee_ecf.h5"} <= skipped
    assert all(msg for _, msg in ds.skipped)
    assert len(ds.recordings) + len(ds.skipped) == len(
        [p for p in FIXTURES.rglob("*") if p.suffix in (".h5", ".hdf5", ".hdf")])


def test_random_windows_reproducible_per_seed_and_epoch():
    def draws(seed, epoch):
        ds = strobe.EventWindows(sources(), "50ms", random=True, windows_per_epoch=20, seed=seed)
        ds.set_epoch(epoch)
        return [(ds[i]["source"], ds[i]["t0"]) for i in range(len(ds))]

    a = draws(1, 0)
    assert a == draws(1, 0)
    assert a != draws(1, 1)
    assert a != draws(2, 0)
    assert len(set(a)) > 15


def test_random_windows_equal_h5py_with_training_options():
    ds = strobe.EventWindows(sources()[:1], "200ms", random=True, windows_per_epoch=5, seed=7)
    fixture = next(f for f in READABLE if f["file"] == FILES[0])
    x, y, t, p = oracle(fixture)
    for i in range(len(ds)):
        s = ds[i]
        a, b = np.searchsorted(t, s["t0"]), np.searchsorted(t, s["t1"])
        np.testing.assert_array_equal(s["t"], t[a:b] - s["t0"])
        np.testing.assert_array_equal(s["p"], np.where(p[a:b] > 0, 1, -1))
        np.testing.assert_array_equal(s["x"], (x[a:b] / 640).astype(np.float32))
        assert s["t0"] % 1000 == 0 and s["t1"] <= t[-1] + 1


def test_count_windows_hold_count_events():
    ds = strobe.EventWindows(sources()[:1], "100ms", count=5000, polarity="stored", normalize=False)
    t = oracle(next(f for f in READABLE if f["file"] == FILES[0]))[2]
    for i in (0, 3, len(ds) - 1):
        s = ds[i]
        a = np.searchsorted(t, s["t0"])
        np.testing.assert_array_equal(s["t"], t[a:a + 5000])


def test_pickled_dataset_reads_the_same_windows():
    ds = strobe.EventWindows(sources(), "100ms", random=True, windows_per_epoch=6, seed=3, transform=None)
    ds.set_epoch(4)
    clone = pickle.loads(pickle.dumps(ds))
    for i in range(len(ds)):
        a, b = ds[i], clone[i]
        for c in ("x", "y", "t", "p"):
            np.testing.assert_array_equal(a[c], b[c])


def test_transform_applies_to_each_sample():
    ds = strobe.EventWindows(sources()[:1], "100ms", transform=lambda s: len(s["t"]))
    assert ds[0] == strobe.EventWindows(sources()[:1], "100ms")[0]["t"].size


def test_collate_flat_and_padded():
    ds = strobe.EventWindows(sources()[:2], "30ms")
    samples = [ds[i] for i in (0, 5, 9)]
    flat = strobe.collate(samples)
    lengths = [len(s["t"]) for s in samples]
    assert flat["t"].shape == (sum(lengths),)
    np.testing.assert_array_equal(flat["batch"], np.repeat(np.arange(3), lengths))
    np.testing.assert_array_equal(flat["x"][flat["batch"] == 1], samples[1]["x"])
    assert flat["source"] == [s["source"] for s in samples]
    padded = strobe.collate(samples, pad=True)
    assert padded["x"].shape == (3, max(lengths))
    assert padded["mask"].sum() == sum(lengths)
    np.testing.assert_array_equal(padded["p"][2][: lengths[2]], samples[2]["p"])
    assert not padded["mask"][np.argmin(lengths), -1] or len(set(lengths)) == 1


def test_stream_shards_cover_every_window_once_and_match_the_dataset():
    stream = strobe.WindowStream(sources(), "100ms", prefetch=3)
    ds = strobe.EventWindows(sources(), "100ms")
    seen = []
    for rank in range(2):
        for worker in range(3):
            for s in stream.iter_shard(worker, 3, rank=rank, world_size=2):
                seen.append((s["source"], s["t0"], len(s["t"])))
    expected = [(ds[i]["source"], ds[i]["t0"], len(ds[i]["t"])) for i in range(len(ds))]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen))
    # Prefetched iteration yields the dataset's windows in index order.
    full = [(s["source"], s["t0"], len(s["t"])) for s in strobe.WindowStream(sources(), "100ms", prefetch=5)]
    assert full == expected
