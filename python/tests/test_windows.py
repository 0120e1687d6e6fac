"""`strobe.open` and `rec.window` against h5py on every fixture layout, locally and over HTTP."""

import numpy as np
import pytest

import strobe
from conftest import ECF, FIXTURES, H5PY_READS, READABLE, open_kwargs, oracle, oracle_window, stored_dtypes

IDS = [f["id"] for f in H5PY_READS]


EDGE_LABELS = ("entire_exact", "many_events_10_to_90pct", "empty_from_eq_to_busy", "before_first",
               "after_last", "last_timestamp_1us", "gap_edges_inclusive", "unaligned_2ms_crossing_ms",
               "tiny_1us_on_most_duplicated")


def pick_windows(fixture, k=9):
    """Edge cases by label (whole file, empty, outside, gaps, duplicates, chunk boundaries)."""
    ws = fixture["windows"]
    picked = [w for w in ws if w["label"].startswith(EDGE_LABELS)]
    picked += [w for w in ws if "dup_straddl" in w["label"]][:2]
    picked = {(w["from"], w["to"]): w for w in picked}
    return list(picked.values())[:k]


def check_window(rec, fixture, w, dtypes=None):
    if w.get("expect_error"):
        with pytest.raises(strobe.StrobeError):
            rec.window(w["from"], w["to"])
        return
    x, y, t, p, first = oracle_window(fixture, w["from"], w["to"])
    got = rec.window(w["from"], w["to"])
    assert len(got["t"]) == w["events"] == len(t)
    np.testing.assert_array_equal(got["x"], x)
    np.testing.assert_array_equal(got["y"], y)
    np.testing.assert_array_equal(got["t"], t)
    np.testing.assert_array_equal(got["p"], p)
    if dtypes:
        assert {c: got[c].dtype for c in "xytp"} == dtypes
    assert got["first_index"] == w["first_index"] == first
    assert (got["t0"], got["t1"]) == (w["from"], w["to"])


@pytest.mark.parametrize("fid", IDS)
def test_local_windows_equal_h5py(fid):
    fixture = next(f for f in READABLE if f["id"] == fid)
    rec = strobe.open(FIXTURES / fixture["file"], **open_kwargs(fixture))
    dtypes = stored_dtypes(fixture)
    info = fixture["info"]
    assert (rec.events, rec.t_first, rec.t_last, rec.t_offset) == (
        info["events"], info["t_first"], info["t_last"], info["t_offset"])
    assert (rec.width, rec.height) == (info["width"], info["height"])
    assert rec.layout == rec.info["layout"] and rec.layout
    assert rec.info["events"] == info["events"]
    for w in pick_windows(fixture):
        check_window(rec, fixture, w, dtypes)


@pytest.mark.parametrize("fid", ["dsec_full_bitshuffle", "m3ed_right", "mvsec_gzip_left", "prophesee_gzip", "tumvie", "idx_btree_v2"])
def test_http_windows_equal_h5py(server, fid):
    fixture = next(f for f in READABLE if f["id"] == fid)
    rec = strobe.open(server + fixture["file"], **open_kwargs(fixture))
    assert rec.events == fixture["info"]["events"]
    for w in pick_windows(fixture, 3):
        check_window(rec, fixture, w)


def test_output_options_match_their_definitions():
    fixture = next(f for f in READABLE if f["id"] == "m3ed_left")  # p stored as 0/1 here? checked below
    rec = strobe.open(FIXTURES / fixture["file"], **open_kwargs(fixture))
    w = max(fixture["windows"], key=lambda w: w["events"])
    x, y, t, p, _ = oracle_window(fixture, w["from"], w["to"])
    got = rec.window(w["from"], w["to"], polarity="signed", normalize=True)
    assert got["p"].dtype == np.int8 and got["x"].dtype == np.float32
    np.testing.assert_array_equal(got["p"], np.where(p > 0, 1, -1))
    np.testing.assert_array_equal(got["x"], (x / rec.width).astype(np.float32))
    np.testing.assert_array_equal(got["y"], (y / rec.height).astype(np.float32))
    np.testing.assert_array_equal(got["t"], t - w["from"])
    got = rec.window(w["from"], w["to"], polarity="binary", absolute_time=True)
    np.testing.assert_array_equal(got["p"], (p > 0).astype(np.int8))
    np.testing.assert_array_equal(got["t"], t + rec.t_offset)
    assert rec.t_offset == fixture["info"]["t_offset"]


@pytest.mark.parametrize("fid", ["dsec_full_bitshuffle", "prophesee_plain", "mvsec_contiguous_right"])
def test_window_by_count_equals_h5py(fid):
    fixture = next(f for f in READABLE if f["id"] == fid)
    rec = strobe.open(FIXTURES / fixture["file"], **open_kwargs(fixture))
    x, y, t, p = oracle(fixture)
    for t0, n in [(rec.t_first, 1000), ((rec.t_first + rec.t_last) // 2, 50_001), (rec.t_last, 10), (rec.t_last - 5000, 10**9)]:
        a = int(np.searchsorted(t, t0, "left"))
        b = min(a + n, len(t))
        got = rec.window_by_count(t0, n)
        np.testing.assert_array_equal(got["t"], t[a:b])
        np.testing.assert_array_equal(got["x"], x[a:b])
        np.testing.assert_array_equal(got["p"], p[a:b])
        if b > a:
            assert got["t1"] == t[b - 1] + 1


@pytest.mark.parametrize("fid", ["dsec_full_bitshuffle", "generic", "m3ed_left"])
def test_listed_windows_count_like_h5py(fid):
    fixture = next(f for f in READABLE if f["id"] == fid)
    rec = strobe.open(FIXTURES / fixture["file"], **open_kwargs(fixture))
    t = oracle(fixture)[2]
    listed = rec.windows("100ms", stride="50ms")
    assert listed
    for t0, t1, n in listed:
        assert t1 - t0 == 100_000
        assert n == np.searchsorted(t, t1) - np.searchsorted(t, t0)
    drawn = rec.random_windows("20ms", 25, seed=3)
    assert drawn == rec.random_windows("20ms", 25, seed=3)
    for t0, t1, n in drawn:
        assert n == np.searchsorted(t, t1) - np.searchsorted(t, t0)


@pytest.mark.parametrize("fid", [f["id"] for f in ECF])
def test_ecf_windows_equal_the_digests_of_h5py_with_prophesees_plugin(fid):
    fixture = next(f for f in ECF if f["id"] == fid)
    rec = strobe.open(FIXTURES / fixture["file"])
    assert rec.events == fixture["info"]["events"]
    for w in fixture["windows"]:
        got = rec.window(w["from"], w["to"])
        assert len(got["t"]) == w["events"]
        sums = [int(got[c].astype(np.int64).sum()) for c in "xytp"]
        assert sums == [w["sum_x"], w["sum_y"], w["sum_t"], w["sum_p"]], w["label"]
        assert int((got["p"] > 0).sum()) == w["positive"]
        assert got["first_index"] == w["first_index"]
    assert len(ECF) >= 4


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("fid", ["dsec_full_bitshuffle", "dsec_append_byteshuffle", "mvsec_gzip_left", "prophesee_gzip"])
def test_windows_equal_h5py_on_any_thread_count(fid, threads):
    fixture = next(f for f in READABLE if f["id"] == fid)
    rec = strobe.open(FIXTURES / fixture["file"], threads=threads, **open_kwargs(fixture))
    for w in pick_windows(fixture):
        check_window(rec, fixture, w)


def test_zero_threads_is_refused():
    fixture = next(f for f in READABLE if f["id"] == "dsec_full_bitshuffle")
    with pytest.raises(ValueError, match="threads=0"):
        strobe.open(FIXTURES / fixture["file"], threads=0)
