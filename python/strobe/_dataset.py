"""EventWindows: a map-style dataset of time windows over many recordings.

The seed's loader, on Strobe's engine: every file is opened with metadata only (all at once),
its span ``[t_first, t_last]`` is cut into windows, and a global index maps to
(file, window). In random mode each index draws its window from (seed, epoch, index) alone, so
any sampler, worker split or rank split sees the same windows.
"""

import bisect
import os
import sys

import numpy as np

from ._recording import POLARITIES, check_polarity, open_many, open_options
from ._time import micros

_EXTENSIONS = (".h5", ".hdf5", ".hdf")


def expand_sources(sources):
    """A directory becomes its HDF5 files (sorted, recursively); one string is one source."""
    if isinstance(sources, (str, os.PathLike)):
        path = os.fspath(sources)
        if os.path.isdir(path):
            found = []
            for root, _dirs, files in os.walk(path):
                found.extend(os.path.join(root, f) for f in files if f.lower().endswith(_EXTENSIONS))
            if not found:
                raise ValueError(f"{path}: no .h5/.hdf5/.hdf files in this directory")
            return sorted(found)
        return [path]
    sources = [os.fspath(s) if isinstance(s, os.PathLike) else s for s in sources]
    if not sources:
        raise ValueError("no sources given — pass paths, URLs or a directory")
    return sources


class EventWindows:
    """Time windows of event recordings as a map-style dataset (see the stub for details)."""

    def __init__(
        self,
        sources,
        length="1s",
        *,
        stride=None,
        random=False,
        windows_per_epoch=None,
        seed=0,
        count=None,
        polarity="signed",
        normalize=True,
        absolute_time=False,
        transform=None,
        on_error="raise",
        camera=None,
        x=None,
        y=None,
        t=None,
        p=None,
        threads=None,
    ):
        check_polarity(polarity)
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error={on_error!r} — use 'raise' or 'skip'")
        self.length = micros(length, "length")
        if self.length <= 0:
            raise ValueError(f"length {length!r} is not positive — give a length > 0")
        self.stride = self.length if stride is None else micros(stride, "stride")
        if self.stride <= 0:
            raise ValueError(f"stride {stride!r} is not positive — give a stride > 0")
        if count is not None and int(count) <= 0:
            raise ValueError(f"count {count!r} is not positive — give count > 0 or None")
        if windows_per_epoch is not None and int(windows_per_epoch) < 0:
            raise ValueError(f"windows_per_epoch {windows_per_epoch!r} is negative")
        self.random = bool(random)
        self.windows_per_epoch = None if windows_per_epoch is None else int(windows_per_epoch)
        self.seed = int(seed)
        self.count = None if count is None else int(count)
        self.polarity = polarity
        self.normalize = bool(normalize)
        self.absolute_time = bool(absolute_time)
        self.transform = transform
        self.epoch = 0
        names = expand_sources(sources)
        opened = open_many(names, open_options(camera, x, y, t, p, threads=threads))
        self.recordings = []
        self.skipped = []
        for name, rec in zip(names, opened):
            if isinstance(rec, BaseException):
                if on_error == "raise":
                    raise rec
                self.skipped.append((name, str(rec)))
            else:
                self.recordings.append(rec)
        self._build_index()

    # -- the index: (file, window) per global index ------------------------------------------
    def _build_index(self):
        self._starts = []  # first global index of each file's tiles
        self._tiles = []  # tiles per file
        self._spans = []  # (t_first, t_last + 1) per file
        total = 0
        for rec in self.recordings:
            if rec.t_first is None or rec.t_last is None or rec.events == 0:
                n = 0
                span = (0, 0)
            else:
                span = (rec.t_first, rec.t_last + 1)
                n = -(-(span[1] - span[0]) // self.stride)  # starts t_first + k·stride <= t_last
            self._starts.append(total)
            self._tiles.append(n)
            self._spans.append(span)
            total += n
        self._total_tiles = total
        # Random draws pick a file in proportion to its span.
        durations = np.array([max(0, b - a) for a, b in self._spans], dtype=np.float64)
        self._weights = np.cumsum(durations)

    def __len__(self):
        if self.random and self.windows_per_epoch is not None:
            return self.windows_per_epoch
        return self._total_tiles

    def set_epoch(self, epoch):
        """Random mode: draw this epoch's windows (reproducible from ``(seed, epoch)``)."""
        self.epoch = int(epoch)

    def locate(self, index):
        """``(file number, t0, t1)`` of window ``index`` in the current epoch."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"window {index} out of range for {n} windows")
        index %= n
        if not self.random:
            f = bisect.bisect_right(self._starts, index) - 1
            while self._tiles[f] == 0:  # empty files own no index; bisect lands on the last
                f += 1
            t0 = self._spans[f][0] + (index - self._starts[f]) * self.stride
            return f, t0, t0 + self.length
        rng = np.random.default_rng([self.seed, self.epoch, index])
        total = self._weights[-1] if len(self._weights) else 0.0
        if total <= 0:
            raise IndexError("no recording with events to draw windows from")
        f = int(np.searchsorted(self._weights, rng.random() * total, side="right"))
        f = min(f, len(self._spans) - 1)
        a, b = self._spans[f]
        last = b - self.length  # the window [t0, t0 + length) fits when t0 <= b - length
        unit = 1000 if self.length % 1000 == 0 else 1
        if last <= a:
            t0 = a
        else:
            t0 = a + int(rng.integers(0, (last - a) // unit + 1)) * unit
        return f, t0, t0 + self.length

    def submit(self, index):
        """Starts reading window ``index`` in the background: ``(file, t0, pending)``."""
        f, t0, t1 = self.locate(index)
        rec = self.recordings[f]
        opts = dict(polarity=self.polarity, normalize=self.normalize, absolute_time=self.absolute_time)
        if self.count is not None:
            return f, t0, rec.submit_count(t0, self.count, **opts)
        return f, t0, rec.submit_window(t0, t1, **opts)

    def finish(self, f, t0, pending):
        """The sample dict of a submitted window."""
        sample = pending.wait()
        sample["source"] = self.recordings[f].source
        sample.pop("first_index", None)
        if self.transform is not None:
            sample = self.transform(sample)
        return sample

    def __getitem__(self, index):
        if hasattr(index, "__index__"):
            index = int(index)
        else:
            raise TypeError(f"window index must be an integer, not {type(index).__name__}")
        return self.finish(*self.submit(index))

    def __repr__(self):
        mode = "random" if self.random else "tiled"
        return (
            f"<strobe.EventWindows {len(self.recordings)} recordings, {len(self)} {mode} windows "
            f"of {self.length} µs, skipped {len(self.skipped)}>"
        )

    # Pickles as configuration + metadata; each Recording reopens in the worker on first use.
    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state):
        self.__dict__.update(state)


def torch_worker():
    """``(worker id, workers)`` from torch's DataLoader, only if the user imported torch."""
    if "torch" in sys.modules:
        info = sys.modules["torch"].utils.data.get_worker_info()
        if info is not None:
            return info.id, info.num_workers
    return 0, 1


def torch_rank():
    """``(rank, world size)`` from torch.distributed, only if the user imported torch."""
    torch = sys.modules.get("torch")
    if torch is not None:
        dist = torch.distributed
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
    return 0, 1


__all__ = ["EventWindows", "expand_sources", "POLARITIES"]
