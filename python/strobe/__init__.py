"""Strobe: exact time windows of event-camera HDF5 recordings (DSEC and kin), from local files
or HTTP(S) URLs, fetched by byte ranges and returned as numpy arrays — and datasets of such
windows for training (map-style :class:`EventWindows`, iterable :class:`WindowStream`).

numpy is the only dependency; torch is never imported (its worker and rank information is
read only when the user has imported it).
"""

from ._strobe import FormatError, HttpError, StrobeError
from ._recording import Recording, open
from ._dataset import EventWindows
from ._stream import WindowStream
from ._collate import collate

__all__ = [
    "open",
    "Recording",
    "EventWindows",
    "WindowStream",
    "collate",
    "StrobeError",
    "HttpError",
    "FormatError",
]
__version__ = "0.1.0"
