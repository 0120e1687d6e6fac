"""Durations as the CLI spells them ("1s", "50ms", "500us") or integer microseconds."""

import re

_UNITS = {"s": 1_000_000, "ms": 1_000, "us": 1, "µs": 1}
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*(s|ms|us|µs)\s*$")


def micros(value, name="length"):
    """``value`` in whole microseconds: an int is µs, a string carries its unit."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be microseconds (int) or a string like '1s', not a bool")
    if isinstance(value, int):
        return value
    if hasattr(value, "__index__"):  # numpy integers
        return int(value)
    if isinstance(value, str):
        m = _PATTERN.match(value)
        if m:
            us = float(m.group(1)) * _UNITS[m.group(2)]
            if us == int(us):
                return int(us)
            raise ValueError(f"{name} {value!r} is not a whole number of microseconds")
    raise ValueError(
        f"{name} {value!r} is not a duration — give microseconds (int) or a string like '1s', '50ms', '500us'"
    )
