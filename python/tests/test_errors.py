"""Every error: the right exception class with the engine's one-line message."""

import pytest

import strobe
from conftest import BROKEN, FIXTURES

DSEC = FIXTURES / "dsec_full_bitshuffle.h5"


@pytest.mark.parametrize("fixture", BROKEN, ids=[f["id"] for f in BROKEN])
def test_broken_files_raise_format_errors(fixture):
    with pytest.raises(strobe.FormatError) as e:
        strobe.open(FIXTURES / fixture["file"])
    assert fixture["expect_error"] in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such file"):
        strobe.open(FIXTURES / "nope.h5")


def test_bad_arguments_are_value_errors():
    rec = strobe.open(DSEC)
    with pytest.raises(ValueError, match="after its end"):
        rec.window(10, 5)
    with pytest.raises(ValueError, match="unknown polarity mode"):
        rec.window(0, 5, polarity="plusminus")
    with pytest.raises(ValueError, match="negative"):
        rec.window_by_count(0, -1)
    with pytest.raises(ValueError, match="not a duration"):
        strobe.EventWindows([DSEC], "one second")
    with pytest.raises(ValueError, match="unknown polarity mode"):
        strobe.EventWindows([DSEC], "1s", polarity="x")
    with pytest.raises(ValueError, match="not supported"):
        strobe.open("ftp://host/key.h5")
    with pytest.raises(ValueError, match="no camera"):
        strobe.open(DSEC, camera="right")


def test_http_errors(server):
    with pytest.raises(strobe.HttpError, match="HTTP 404"):
        strobe.open(server + "missing.h5")
    with pytest.raises(strobe.FormatError, match="not an HDF5 file"):
        strobe.open(server + "not_hdf5.h5")
    assert issubclass(strobe.HttpError, strobe.StrobeError)
    assert issubclass(strobe.FormatError, strobe.StrobeError)


def test_bad_file_among_many_is_named_and_others_kept():
    names = [DSEC, FIXTURES / "not_hdf5.h5", FIXTURES / "tumvie.h5", FIXTURES / "gone.h5"]
    ds = strobe.EventWindows(names, "1s", on_error="skip")
    assert [r.source for r in ds.recordings] == [str(DSEC), str(FIXTURES / "tumvie.h5")]
    assert [n for n, _ in ds.skipped] == [str(FIXTURES / "not_hdf5.h5"), str(FIXTURES / "gone.h5")]
    assert "not_hdf5.h5" in ds.skipped[0][1] and "no such file" in ds.skipped[1][1]
    with pytest.raises(FileNotFoundError, match="gone.h5"):
        strobe.EventWindows([DSEC, FIXTURES / "gone.h5"], "1s")


def test_caps_are_keywords_and_their_errors_name_them():
    path = FIXTURES / "dsec_full_bitshuffle.h5"
    with pytest.raises(strobe.StrobeError, match="max_rows="):
        rec = strobe.open(path, max_rows=1000)
        rec.window(rec.t_first, rec.t_last + 1)
    rec = strobe.open(path, max_rows=1 << 30)
    assert len(rec.window(rec.t_first, rec.t_first + 1000)["t"]) > 0
    with pytest.raises(TypeError, match="max_bogus"):
        strobe.open(path, max_bogus=1)
