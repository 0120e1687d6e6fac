"""`strobe.open("s3://…")` against a real S3-API server on loopback (moto, authentication on,
started from tests/s3_moto.py): windows equal h5py's, credentials from the environment."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import strobe
from conftest import FIXTURES, H5PY_READS, oracle_window

REPO = Path(__file__).resolve().parents[2]
IDS = ["dsec_full_bitshuffle", "m3ed_left"]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    data = tmp_path_factory.mktemp("s3data")
    for f in H5PY_READS:
        if f["id"] in IDS:
            shutil.copy(FIXTURES / f["file"], data / f["file"])
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "s3_moto.py"), "events", f"rec={data}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        pytest.fail(f"moto did not start: {proc.stderr.read()}")  # a failure, never a skip
    info = json.loads(line)
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                           "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ALLOW_HTTP")}
    os.environ.update(AWS_ACCESS_KEY_ID=info["key_id"], AWS_SECRET_ACCESS_KEY=info["secret"],
                      AWS_ENDPOINT_URL=info["endpoint"], AWS_REGION="us-east-1", AWS_ALLOW_HTTP="true")
    yield f"s3://{info['bucket']}/rec/"
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.parametrize("fid", IDS)
def test_s3_windows_equal_h5py(s3, fid):
    fixture = next(f for f in H5PY_READS if f["id"] == fid)
    rec = strobe.open(s3 + fixture["file"], **({"camera": fixture["camera"]} if fixture["camera"] else {}))
    assert rec.events == fixture["info"]["events"]
    w = max(fixture["windows"], key=lambda w: w["events"])
    x, y, t, p, first = oracle_window(fixture, w["from"], w["to"])
    got = rec.window(w["from"], w["to"])
    for name, want in zip("xytp", (x, y, t, p)):
        np.testing.assert_array_equal(got[name], want)
    assert got["first_index"] == first


def test_s3_wrong_key_is_one_line(s3):
    os.environ["AWS_SECRET_ACCESS_KEY"], good = "wrong", os.environ["AWS_SECRET_ACCESS_KEY"]
    try:
        with pytest.raises(strobe.StrobeError) as e:
            strobe.open(s3 + "dsec_full_bitshuffle.h5")
        assert "access denied" in str(e.value) and "\n" not in str(e.value)
    finally:
        os.environ["AWS_SECRET_ACCESS_KEY"] = good
