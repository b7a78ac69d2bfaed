"""The benchmarks' reading of wrk's latency report: every unit wrk prints, and a median that
survives a run without a figure."""

from __future__ import annotations

import math

import pytest

from bench.common import median
from bench.wrk_output import latency_percentiles, wrk_ms

# a `wrk --latency` report as wrk 4 prints it: a one-letter unit leaves a trailing space
REPORT = """Running 20s test @ http://127.0.0.1:9181/cases
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   312.45ms  402.11ms   2.00s    88.12%
    Req/Sec    40.12     12.34    80.00     70.00%
  Latency Distribution
     50%  180.22ms
     75%  350.01ms
     90%  812.00us
     99%    1.03s \n  1604 requests in 20.03s, 1.20MB read
  Non-2xx or 3xx responses: 2
Requests/sec:     80.08
Transfer/sec:     61.22KB
"""


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("812.00us", 0.812),
        ("4.17ms", 4.17),
        ("1.03s", 1030.0),
        ("    1.03s ", 1030.0),
        ("2.00m", 120_000.0),
        ("1.50h", 5_400_000.0),
        ("0.00us", 0.0),
        ("7s", 7000.0),
    ],
)
def test_every_unit_wrk_prints_is_read_as_milliseconds(text: str, ms: float) -> None:
    assert wrk_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text", ["", "1.03", "ms", "1.03 days", "1.03sec", "-1ms", "nan"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a wrk time"):
        wrk_ms(text)


def test_the_latency_distribution_of_a_report_in_milliseconds() -> None:
    got = latency_percentiles(REPORT)
    assert got == pytest.approx({"50": 180.22, "75": 350.01, "90": 0.812, "99": 1030.0})


def test_a_report_without_a_distribution_has_no_percentiles() -> None:
    assert latency_percentiles(REPORT.partition("  Latency Distribution")[0]) == {}


def test_the_median_leaves_out_runs_without_a_figure() -> None:
    assert median([3.0, None, 1.0, 2.0]) == 2.0
    assert median([1.0, math.nan, 4.0]) == 2.5
    assert median([None, None]) is None
    assert median([]) is None
