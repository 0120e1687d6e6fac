"""Strobe: exact time windows of event-camera HDF5 recordings (DSEC and kin) as numpy arrays.

Windows are the events with ``t0 <= t < t1`` in microseconds of the stored ``t`` (without
``t_offset``). Files are read by byte ranges — locally or over HTTP(S) — fetching only the chunks
a window needs. Reading runs on an engine thread with the GIL released; Ctrl-C stops a long
remote read within ~50 ms.
"""

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

Source = Union[str, "os.PathLike[str]"]
Duration = Union[int, str]  # int µs, or "1s", "50ms", "500us"
Window = Dict[str, Any]

class StrobeError(Exception):
    """Any failure of the engine; the message is one line saying what to fix."""

class HttpError(StrobeError):
    """An HTTP source failed (status, a server ignoring Range, gzip, the network)."""

class FormatError(StrobeError):
    """Not a readable event recording (not HDF5, no event datasets, unsupported filter, ...)."""

class Recording:
    """An opened recording (metadata only until a window is read). Pickles as its source and
    options; a pickled or forked copy reopens the file on first use."""

    source: str
    events: int
    t_first: Optional[int]
    t_last: Optional[int]
    t_offset: int
    width: int
    height: int
    layout: str
    @property
    def info(self) -> Dict[str, Any]:
        """The dict ``strobe info --json`` prints."""
    def window(
        self, t0: int, t1: int, *, polarity: str = "stored", normalize: bool = False, absolute_time: bool = False
    ) -> Window:
        """Events ``t0 <= t < t1`` as ``{"x", "y", "t", "p", "t0", "t1", "first_index"}``.

        Every column comes back in the integer dtype the file stores it in (native byte order;
        float columns as int64, ``t`` in µs): ``x, y`` (float32 ``x/width``, ``y/height`` with
        ``normalize``); ``t`` (int64 ``t - t0`` with ``normalize``, ``t + t_offset`` with
        ``absolute_time``); ``p``: ``polarity="stored"`` as stored, ``"signed"`` int8 −1/+1,
        ``"binary"`` int8 0/1 (``p > 0`` in the stored type is positive). Raises ValueError
        when ``t0 > t1`` or the polarity mode is unknown.
        """
    def window_by_count(
        self, t0: int, count: int, *, polarity: str = "stored", normalize: bool = False, absolute_time: bool = False
    ) -> Window:
        """The first ``count`` events at or after ``t0`` (fewer at the end); ``t1`` is one µs
        past the last of them."""
    def windows(self, length: Duration, stride: Optional[Duration] = None) -> List[Tuple[int, int, int]]:
        """``(t0, t1, events)`` of every window of ``length`` that fits in the span, every
        ``stride`` (default ``length``), counted from the time index alone."""
    def random_windows(self, length: Duration, count: int, seed: int = 0) -> List[Tuple[int, int, int]]:
        """``count`` windows with starts drawn by ``seed`` (as ``strobe windows --random``)."""
    def submit_window(self, t0: int, t1: int, **options: Any) -> Any:
        """Starts reading in the background; ``.wait()`` on the result returns the window."""
    def submit_count(self, t0: int, count: int, **options: Any) -> Any: ...

def open(
    src: Source,
    *,
    camera: Optional[str] = None,
    x: Optional[str] = None,
    y: Optional[str] = None,
    t: Optional[str] = None,
    p: Optional[str] = None,
    ms_index: Optional[str] = None,
    t_offset: Optional[str] = None,
    headers: Optional[Dict[str, str]] = None,
    max_memory_mb: Optional[int] = None,
    max_chunk_mb: Optional[int] = None,
    max_metadata_mb: Optional[int] = None,
    max_rows: Optional[int] = None,
    max_index_nodes: Optional[int] = None,
    threads: Optional[int] = None,
) -> Recording:
    """Opens a path, ``http(s)://`` URL or ``s3://``/``gs://``/``az://`` object (metadata
    only; object-store credentials from the standard environment). ``camera`` picks an
    M3ED/MVSEC camera; ``x``/``y``/``t``/``p``/``ms_index``/``t_offset`` override layout
    detection as the CLI flags do; ``headers`` are sent with every HTTP request (e.g.
    ``{"Authorization": "Bearer …"}``); ``max_*`` raise the caps a damaged or huge file may
    hit, as the CLI's ``--max-*`` flags do (MiB for the ``_mb`` ones). ``threads``: threads
    decoding a window's chunks (``None``: one per core; ``1``: on the engine thread alone; in
    DataLoader workers, ``threads=1`` keeps workers × threads within the cores). FileNotFoundError,
    ValueError (unsupported scheme, no such camera), HttpError, FormatError."""

class EventWindows:
    """Map-style dataset of windows over many recordings (works with torch's DataLoader and
    DistributedSampler as it is; torch is never imported).

    ``sources``: paths/URLs or a directory (its .h5/.hdf5/.hdf files, sorted), opened at once.
    Tiled mode: each file's span ``[t_first, t_last]`` cut into windows ``t_first + k·stride``
    (the last one partial), so the windows of a file hold all its events when
    ``stride == length``. ``random=True``: window ``i`` of epoch ``e`` is drawn from
    ``(seed, e, i)`` alone — a file in proportion to its span, a start (whole ms when the length
    is) where the window fits; ``len`` is ``windows_per_epoch`` (default the tile count);
    ``set_epoch(e)`` draws anew. ``count``: each window is the ``count`` events from its start.
    Samples: ``{"x", "y", "t", "p", "source", "t0", "t1"}`` with the output options of
    :meth:`Recording.window` (defaults here: signed polarity, normalised), then ``transform``.
    ``on_error="skip"`` keeps going past files that fail to open; they are in ``skipped`` as
    ``(source, message)``. ``threads``: as :func:`open`'s.
    """

    recordings: List[Recording]
    skipped: List[Tuple[str, str]]
    length: int
    stride: int
    epoch: int
    def __init__(
        self,
        sources: Union[Source, Sequence[Source]],
        length: Duration = "1s",
        *,
        stride: Optional[Duration] = None,
        random: bool = False,
        windows_per_epoch: Optional[int] = None,
        seed: int = 0,
        count: Optional[int] = None,
        polarity: str = "signed",
        normalize: bool = True,
        absolute_time: bool = False,
        transform: Optional[Callable[[Window], Any]] = None,
        on_error: str = "raise",
        camera: Optional[str] = None,
        x: Optional[str] = None,
        y: Optional[str] = None,
        t: Optional[str] = None,
        p: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> None: ...
    def __len__(self) -> int: ...
    def __getitem__(self, index: int) -> Any: ...
    def set_epoch(self, epoch: int) -> None: ...
    def locate(self, index: int) -> Tuple[int, int, int]:
        """``(file number, t0, t1)`` of window ``index`` in the current epoch."""

class WindowStream:
    """Iterable form of :class:`EventWindows` (same arguments): yields the windows of this
    process's shard — indices ``rank·workers + worker`` modulo ``world_size·workers`` — with
    ``prefetch`` windows read ahead on the engine thread. ``rank``/``world_size`` default to
    torch.distributed's when the user initialised it, else 0/1; the worker comes from torch's
    ``get_worker_info()`` when torch is imported."""

    def __init__(
        self,
        sources: Union[Source, Sequence[Source]],
        length: Duration = "1s",
        *,
        prefetch: int = 4,
        rank: Optional[int] = None,
        world_size: Optional[int] = None,
        **options: Any,
    ) -> None: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int:
        """All windows of the epoch (every shard together)."""
    def set_epoch(self, epoch: int) -> None: ...
    def shard(self, worker_id: int = 0, num_workers: int = 1, rank: Optional[int] = None, world_size: Optional[int] = None) -> range: ...
    def iter_shard(self, worker_id: int = 0, num_workers: int = 1, rank: Optional[int] = None, world_size: Optional[int] = None) -> Iterator[Any]: ...

def collate(samples: Sequence[Window], pad: bool = False) -> Dict[str, Any]:
    """Batches windows. Flat: ``x, y, t, p`` concatenated plus ``batch`` (int64 sample number
    per event). ``pad=True``: ``(B, longest)`` arrays zero-padded plus a bool ``mask``. Both add
    ``lengths`` and lists of the other keys (``source``, ``t0``, ``t1``)."""
