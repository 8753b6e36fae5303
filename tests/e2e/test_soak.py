"""The soak's short version (issue 17, item 26): 60 s of mixed traffic at a steady rate
against a real server (tests/perf/soak.py). Asserted: no error beyond the expected
refusals (guardrail 400s, limit 429s), every answered request's usage record written,
and a very generous leak bound on fds. RSS, connections and latency are reported, not
asserted: a shared machine's timing says nothing about Inferia."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.perf.soak import LIMITED_RPM, run_soak

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
DURATION_S = 60.0
RATE = 10.0


def test_a_minute_of_mixed_traffic_loses_nothing_and_leaks_no_fds(tmp_path: Path) -> None:
    report = run_soak(tmp_path, DURATION_S, RATE, sample_s=5.0)
    print(report.summary())
    assert not report.errors, report.summary()
    statuses = report.statuses
    # Each kind was sent, and the refusals happened.
    assert statuses["plain"].get(200, 0) > 0, report.summary()
    assert statuses["stream"].get(200, 0) > 0, report.summary()
    assert statuses["guardrail"] == {400: statuses["guardrail"][400]}, report.summary()
    limited = statuses["limited"]
    assert limited.get(429, 0) > 0 and limited.get(200, 0) >= LIMITED_RPM // 2, report.summary()
    assert report.missing_usage == 0, report.summary()
    assert len(report.samples) >= 5, report.summary()
    fds = [sample.fds for sample in report.samples]
    assert max(fds[len(fds) // 2 :]) - fds[0] <= 50, report.summary()
