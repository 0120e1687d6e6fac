"""The "Real-time playback" section of BENCHMARKS.md from bench/browser.mjs's `play` results.

Used by bench/compare.py (a full run) and on its own for a playback-only run:

    node bench/browser.mjs --parts play ... > bench/playback_results.json
    python3 bench/playback_md.py bench/playback_results.json   # prints the section

A run merged into bench/results.json may carry `play_note` (appended to the
section's text) and `play_comment` (lines after the table): what that run's conditions were.

Each `play` entry: {ahead (null: the page's prefetch, 0: none), speed, dt (µs), wall_ms,
shown, due, skipped, effective} — the page's own accounting (www/playback.js).
"""

import json
import sys


def _rows(files):
    for b in files:
        for r in b.get("play") or []:
            yield b["file"].replace(".h5", ""), r


def playback_section(browser, latency_ms, note=""):
    """Markdown lines of the playback table, or [] when the run has no playback results."""
    files = (browser or {}).get("files") or []
    rows = list(_rows(files))
    if not rows:
        return []
    wall = rows[0][1].get("wall_ms", 0) / 1000
    L = ["## Real-time playback in the page (100 M-event files, latency server)", ""]
    L.append(f"The page plays 50 ms windows of each big file from `strobe serve --latency-ms {latency_ms}` "
             f"(every HTTP request answered {latency_ms} ms late) for {wall:.0f} s of wall time per row, "
             "with its prefetch (windows fetched ahead while one is drawn: ~300 ms of them) and without "
             "(0 ahead), in the same run. *Due*: windows whose time came during the run; *shown*: drawn "
             "(each as soon as it was due or its predecessor was drawn); *skipped*: late ones the "
             "player jumped over to stay in time; *effective*: recording "
             "time shown per wall time (the page's own accounting, `www/playback.js`, also on its "
             "toolbar). 2× is beyond the page's speeds (it offers up to 1×): where it stops keeping up."
             + (f" {note}" if note else "")
             + (f" {browser['play_note']}" if browser.get("play_note") else ""))
    L.append("")
    L.append("| file | speed | prefetch | shown / due | skipped | effective speed |")
    L.append("|---|---:|---|---:|---:|---:|")
    for name, r in rows:
        ahead = "page's (~300 ms)" if r.get("ahead") is None else f"{r['ahead']} windows"
        L.append(f"| {name} | {r['speed']:g}× | {ahead} | {r['shown']} / {r['due']} | {r['skipped']} | "
                 f"{r['effective']:.2f}× |")
    L.append("")
    # A playback-only run's reading of its numbers (kept with them in results.json).
    if browser.get("play_comment"):
        L.extend(browser["play_comment"])
        L.append("")
    return L


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: bench/playback_md.py BROWSER_JSON [LATENCY_MS] [NOTE]")
    with open(sys.argv[1]) as fh:
        data = json.load(fh)
    latency = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    note = sys.argv[3] if len(sys.argv) > 3 else ""
    print("\n".join(playback_section(data, latency, note)))
