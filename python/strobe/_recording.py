"""One recording: metadata at open, windows on request; pickles as its options."""

import json
import os

from . import _strobe

_OPEN_KEYS = ("camera", "x", "y", "t", "p", "ms_index", "t_offset")
POLARITIES = ("stored", "signed", "binary")


def check_polarity(polarity):
    if polarity not in POLARITIES:
        raise ValueError(
            f"unknown polarity mode {polarity!r} — use 'stored', 'signed' or 'binary'"
        )


def _fspath(src):
    if isinstance(src, os.PathLike):
        return os.fspath(src)
    if not isinstance(src, str):
        raise ValueError(f"source {src!r} is not a path or URL string")
    return src


class Recording:
    """An opened event recording (see :func:`strobe.open`)."""

    def __init__(self, src, options, native):
        self._src = src
        self._options = options
        self._native = native
        self._pid = os.getpid()
        self._meta = {
            k: getattr(native, k)
            for k in ("events", "t_first", "t_last", "t_offset", "width", "height", "layout", "info_json")
        }

    # -- metadata -----------------------------------------------------------------------------
    source = property(lambda self: self._src, doc="The path or URL this recording was opened from.")
    events = property(lambda self: self._meta["events"], doc="Number of events.")
    t_first = property(lambda self: self._meta["t_first"], doc="First timestamp (µs, stored t), None if empty.")
    t_last = property(lambda self: self._meta["t_last"], doc="Last timestamp (µs, stored t), None if empty.")
    t_offset = property(lambda self: self._meta["t_offset"], doc="The recording's t_offset (0 if none).")
    width = property(lambda self: self._meta["width"], doc="Sensor width in pixels.")
    height = property(lambda self: self._meta["height"], doc="Sensor height in pixels.")
    layout = property(lambda self: self._meta["layout"], doc="Detected layout name (dsec, m3ed, ...).")

    @property
    def info(self):
        """The dict ``strobe info --json`` prints for this recording."""
        return json.loads(self._meta["info_json"])

    def __repr__(self):
        return (
            f"<strobe.Recording {self._src!r} layout={self.layout} events={self.events} "
            f"t=[{self.t_first}, {self.t_last}] {self.width}x{self.height}>"
        )

    # -- windows ------------------------------------------------------------------------------
    def _engine(self):
        """The native recording of this process (reopened after fork or unpickling)."""
        if self._native is None or self._pid != os.getpid():
            self._native = _strobe.open(self._src, **self._options).wait()
            self._pid = os.getpid()
        return self._native

    def submit_window(self, t0, t1, *, polarity="stored", normalize=False, absolute_time=False):
        """Starts reading a window in the background; ``.wait()`` on the result gives the dict."""
        check_polarity(polarity)
        return self._engine().window(int(t0), int(t1), polarity, bool(normalize), bool(absolute_time))

    def submit_count(self, t0, count, *, polarity="stored", normalize=False, absolute_time=False):
        """Starts reading ``count`` events from ``t0`` in the background."""
        check_polarity(polarity)
        if int(count) < 0:
            raise ValueError(f"count {count} is negative — give a count >= 0")
        return self._engine().window_by_count(
            int(t0), int(count), polarity, bool(normalize), bool(absolute_time)
        )

    def window(self, t0, t1, *, polarity="stored", normalize=False, absolute_time=False):
        return self.submit_window(
            t0, t1, polarity=polarity, normalize=normalize, absolute_time=absolute_time
        ).wait()

    def window_by_count(self, t0, count, *, polarity="stored", normalize=False, absolute_time=False):
        return self.submit_count(
            t0, count, polarity=polarity, normalize=normalize, absolute_time=absolute_time
        ).wait()

    def windows(self, length, stride=None):
        from ._time import micros

        length = micros(length, "length")
        stride = None if stride is None else micros(stride, "stride")
        return [tuple(w) for w in self._engine().windows(length, stride).wait()]

    def random_windows(self, length, count, seed=0):
        """``count`` windows of ``length`` with starts drawn by ``seed`` (as ``strobe windows --random``)."""
        from ._time import micros

        return [
            tuple(w)
            for w in self._engine().windows(micros(length, "length"), None, int(count), int(seed)).wait()
        ]

    # -- pickling: the options and the metadata; the engine side reopens lazily ---------------
    def __getstate__(self):
        return {"src": self._src, "options": self._options, "meta": self._meta}

    def __setstate__(self, state):
        self._src = state["src"]
        self._options = state["options"]
        self._meta = state["meta"]
        self._native = None
        self._pid = None


def open_options(camera=None, x=None, y=None, t=None, p=None, ms_index=None, t_offset=None, **extra):
    """The keyword arguments of the native open; `extra` holds `headers` and the caps
    (`max_memory_mb`, `max_chunk_mb`, `max_metadata_mb`, `max_rows`, `max_index_nodes`) and
    `threads` (threads decoding chunks; None: every core)."""
    known = {"headers", "max_memory_mb", "max_chunk_mb", "max_metadata_mb", "max_rows", "max_index_nodes",
             "threads"}
    unknown = set(extra) - known
    if unknown:
        raise TypeError(f"open() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    if extra.get("headers") is not None:
        extra["headers"] = {str(k): str(v) for k, v in dict(extra["headers"]).items()}
    return {
        k: v
        for k, v in dict(camera=camera, x=x, y=y, t=t, p=p, ms_index=ms_index, t_offset=t_offset, **extra).items()
        if v is not None
    }


def submit_open(src, options):
    src = _fspath(src)
    return src, _strobe.open(src, **options)


def open(src, *, camera=None, x=None, y=None, t=None, p=None, ms_index=None, t_offset=None, **extra):
    options = open_options(camera, x, y, t, p, ms_index, t_offset, **extra)
    src, pending = submit_open(src, options)
    return Recording(src, options, pending.wait())


def open_many(sources, options):
    """Opens every source at once (their requests overlap); a list of Recording or exception."""
    pendings = []
    for src in sources:
        try:
            pendings.append(submit_open(src, options))
        except Exception as e:  # noqa: BLE001 — reported per source
            pendings.append((src, e))
    out = []
    for src, pending in pendings:
        if isinstance(pending, Exception):
            out.append(pending)
            continue
        try:
            out.append(Recording(src, options, pending.wait()))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # noqa: BLE001
            out.append(e)
    return out
