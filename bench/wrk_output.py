"""Reading wrk's `--latency` report (no dependencies: the unit tests import it).

wrk prints a time with the unit that keeps the number small: `812.00us`, `4.17ms`, `1.03s`,
`2.00m`, `1.00h` (its `format_time_us` and `format_time_s`), padded so that a one-letter unit
leaves a trailing space.
"""

from __future__ import annotations

import re

# milliseconds per unit, for every unit wrk prints
MS_PER_UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}

_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h)\s*$")
_PERCENTILE = re.compile(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$", re.M)


def wrk_ms(text: str) -> float:
    """`1.03s` -> 1030.0: a time as wrk prints it, in milliseconds; ValueError for anything
    else."""
    match = _TIME.match(text)
    if not match:
        raise ValueError(f"not a wrk time: {text!r}")
    return float(match.group(1)) * MS_PER_UNIT[match.group(2)]


def latency_percentiles(report: str) -> dict[str, float]:
    """The latency distribution of a `wrk --latency` report, percentile -> milliseconds
    (`{"50": 4.17, "75": …, "90": …, "99": 1030.0}`)."""
    return {
        q.removesuffix(".0"): wrk_ms(value)
        for q, value in _PERCENTILE.findall(report.partition("Latency Distribution")[2])
    }
