"""Batching windows for point-based networks: flat arrays + a batch index, or padded + mask."""

import numpy as np

COLUMNS = ("x", "y", "t", "p")


def collate(samples, pad=False):
    samples = list(samples)
    if not samples:
        raise ValueError("collate needs at least one sample")
    lengths = np.array([len(s["t"]) for s in samples], dtype=np.int64)
    out = {}
    if not pad:
        for c in COLUMNS:
            out[c] = np.concatenate([np.asarray(s[c]) for s in samples])
        out["batch"] = np.repeat(np.arange(len(samples), dtype=np.int64), lengths)
    else:
        longest = int(lengths.max())
        for c in COLUMNS:
            first = np.asarray(samples[0][c])
            arr = np.zeros((len(samples), longest), dtype=first.dtype)
            for i, s in enumerate(samples):
                arr[i, : lengths[i]] = s[c]
            out[c] = arr
        out["mask"] = np.arange(longest)[None, :] < lengths[:, None]
    out["lengths"] = lengths
    for key in samples[0]:
        if key not in COLUMNS:
            out[key] = [s.get(key) for s in samples]
    return out
