"""Ctrl-C during a slow remote read raises KeyboardInterrupt instead of waiting it out."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from conftest import FIXTURES, _free_port
import conftest

CHILD = r"""
import sys, strobe
print("start", flush=True)
try:
    strobe.open(sys.argv[1])
    print("opened", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


def test_ctrl_c_stops_a_slow_remote_open():
    binary = os.environ.get("STROBE_BIN", str(conftest.ROOT / "target" / "debug" / "strobe"))
    port = _free_port()
    # 20 s per request: the open (several rounds) could not finish before the interrupt.
    server = subprocess.Popen([binary, "serve", "--data", str(FIXTURES), "--port", str(port),
                               "--bind", "127.0.0.1", "--latency-ms", "20000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=0.5)
                break
            except OSError as e:
                if getattr(e, "code", None):
                    break
                time.sleep(0.05)
        child = subprocess.Popen([sys.executable, "-c", CHILD, f"http://127.0.0.1:{port}/data/dsec_full_bitshuffle.h5"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "start"
            time.sleep(1.0)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=15)
            assert out.strip() == "interrupted", (out, err)
        finally:
            child.kill()
            child.wait()
    finally:
        server.terminate()
        server.wait(10)
