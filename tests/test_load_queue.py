"""The load engine's arithmetic, with no clock at all: seeded schedules, the M/G/c simulation
against queueing theory, results built from simulated per-request times (a fake clock), and
the verdicts on dependent samples. Tolerances are stated with each check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_mlperf.load.pool import DROPPED, OK, Timings
from pytest_mlperf.load.queue import (
    erlang_c,
    md1_mean_wait,
    mm1_response_quantile,
    predict,
    simulate,
    simulate_mgc,
)
from pytest_mlperf.load.result import build_result, saturation
from pytest_mlperf.load.schedule import LoadSettingError, LoadSettings, arrival_times
from pytest_mlperf.load.verdict import judge_load, min_requests, percentile_verdict
from pytest_mlperf.marks import Limit

RNG = np.random.default_rng(2026)


def test_poisson_schedule_is_seeded_and_has_the_asked_rate() -> None:
    a = arrival_times(500.0, 20.0, "poisson", seed=1)
    assert np.array_equal(a, arrival_times(500.0, 20.0, "poisson", seed=1))
    assert not np.array_equal(a, arrival_times(500.0, 20.0, "poisson", seed=2))
    assert a.max() < 20.0 and np.all(np.diff(a) > 0)
    # 10,000 expected arrivals: the count is within 4 sd (sd = 100) of it
    assert abs(a.size - 10_000) < 400
    gaps = np.diff(a)
    # exponential gaps: mean 1/rate, coefficient of variation 1 (each within 3%)
    assert gaps.mean() == pytest.approx(1 / 500, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, rel=0.03)


def test_constant_schedule_is_evenly_spaced() -> None:
    a = arrival_times(100.0, 1.0, "constant", seed=0)
    assert a.size == 100
    assert np.allclose(np.diff(a), 0.01)


@settings(max_examples=60, deadline=None)
@given(
    rps=st.one_of(st.floats(allow_nan=True), st.integers(), st.text(max_size=3), st.none()),
    workers=st.one_of(st.integers(-3, 3), st.floats(0.5, 2.5), st.booleans()),
    pool=st.text(max_size=10),
)
def test_settings_accept_good_values_and_name_the_bad_one(
    rps: object, workers: object, pool: str
) -> None:
    good_rps = (
        isinstance(rps, (int, float))
        and not isinstance(rps, bool)
        and math.isfinite(rps)
        and rps > 0
    )
    good_workers = isinstance(workers, int) and not isinstance(workers, bool) and workers >= 1
    good_pool = pool in ("threads", "processes")
    try:
        made = LoadSettings.make(rps=rps, workers=workers, pool=pool, duration_s=0.01)
    except LoadSettingError as exc:
        assert not (good_rps and good_workers and good_pool)
        bad = "rps" if not good_rps else "workers" if not good_workers else "pool"
        assert str(exc).startswith(bad) or "schedules more than" in str(exc)
        return
    assert good_rps and good_workers and good_pool
    assert made.rps == float(rps) and made.workers == workers  # type: ignore[arg-type]


def test_default_duration_gives_about_2000_requests_within_bounds() -> None:
    assert LoadSettings.make(rps=100).duration_s == 10.0  # 2,000 / 100 = 20 s, capped at 10
    assert LoadSettings.make(rps=10_000).duration_s == 2.0  # at least 2 s
    assert LoadSettings.make(rps=500, max_time=3).duration_s == 3.0  # --mlperf-max-time caps


def test_mm1_simulation_matches_the_exponential_response_time() -> None:
    # E[S] = 5 ms, 100 rps: p95 = ln 20 / (200 - 100) = 29.96 ms; within 5% on 200,000 requests
    service = RNG.exponential(0.005, 200_000)
    response, _ = simulate_mgc(service, 100.0, 1, requests=200_000, seed=3)
    for q in (0.5, 0.95, 0.99):
        assert np.quantile(response, q) == pytest.approx(
            mm1_response_quantile(q, 100, 200), rel=0.05
        )


def test_md1_simulation_matches_pollaczek_khinchine() -> None:
    # constant 10 ms service at 70 rps (rho = 0.7): mean wait 11.67 ms, within 5%
    _, waits = simulate_mgc(np.array([0.010]), 70.0, 1, requests=200_000, seed=4)
    assert waits.mean() == pytest.approx(md1_mean_wait(0.7, 0.010), rel=0.05)


@pytest.mark.parametrize(("workers", "rps"), [(2, 300.0), (4, 700.0)])
def test_mmc_waiting_probability_matches_erlang_c(workers: int, rps: float) -> None:
    # E[S] = 5 ms; the share of requests that wait, within 0.02 of Erlang C
    service = RNG.exponential(0.005, 200_000)
    _, waits = simulate_mgc(service, rps, workers, requests=200_000, seed=5)
    assert np.mean(waits > 0) == pytest.approx(erlang_c(workers, rps * 0.005), abs=0.02)
    # and the waiting time's tail: P(W > t) = C e^{-(c mu - lambda) t} at t = 5 ms, within 0.02
    tail = erlang_c(workers, rps * 0.005) * math.exp(-(workers * 200 - rps) * 0.005)
    assert np.mean(waits > 0.005) == pytest.approx(tail, abs=0.02)


def test_erlang_c_closed_form_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook value


def test_simulation_serves_first_come_first_served() -> None:
    response, waits = simulate(np.array([1.0, 1.0, 1.0]), np.array([0.0, 0.0, 0.5]), 2)
    assert list(waits) == [0.0, 0.0, 0.5]
    assert list(response) == [1.0, 1.0, 1.5]


def test_prediction_from_single_call_samples() -> None:
    samples_ms = RNG.exponential(5.0, 5_000)
    got = predict(samples_ms, 100.0, 1)
    assert got.stable and got.utilisation == pytest.approx(0.5, rel=0.05)
    assert got.latency_ms["p95"] == pytest.approx(29.96, rel=0.10)  # M/M/1, 20,000 requests
    unstable = predict(samples_ms, 250.0, 1)
    assert not unstable.stable and unstable.latency_ms["p95"] is None
    assert unstable.to_dict()["stable"] is False


def _timings(arrivals_s: np.ndarray, service_s: np.ndarray, workers: int) -> Timings:
    """Per-request times as a perfect generator and pool would record them (a fake clock)."""
    response, waits = simulate(service_s, arrivals_s, workers)
    scheduled = np.round(arrivals_s * 1e9).astype(np.int64)
    t = Timings.empty(scheduled)
    t.sent = scheduled.copy()
    t.start = scheduled + np.round(waits * 1e9).astype(np.int64)
    t.end = scheduled + np.round(response * 1e9).astype(np.int64)
    t.status[:] = OK
    return t


def _build(t: Timings, duration: float, rps: float, timeout: float = 10.0) -> object:
    return build_result(
        t, label="m", method="predict", batch_size=1, rps=rps, workers=1, pool="threads",
        arrival="poisson", duration_s=duration, timeout_s=timeout, confidence=0.95,
    )  # fmt: skip


def test_result_counts_latency_from_the_schedule_and_splits_queue_and_service() -> None:
    arrivals = arrival_times(100.0, 100.0, "poisson", seed=7)
    service = RNG.exponential(0.005, arrivals.size)
    result = _build(_timings(arrivals, service, 1), 100.0, 100.0)
    assert not result.saturated, result.saturation_reason
    # M/M/1 at rho = 0.5 from a fake clock: p95 within 10% of 29.96 ms (about 10,000 requests)
    assert result.latency_p95 == pytest.approx(29.96, rel=0.10)
    assert result.service_ms["p95"] == pytest.approx(5 * math.log(20), rel=0.10)
    assert result.achieved_rps == pytest.approx(result.offered_rps, rel=0.01)
    lat = np.array(result.samples_ms)
    assert np.allclose(lat, np.array(result.queue_samples_ms) + np.array(result.service_samples_ms))


def test_an_overloaded_queue_is_saturated() -> None:
    arrivals = arrival_times(300.0, 10.0, "poisson", seed=8)  # rho = 1.5
    service = RNG.exponential(0.005, arrivals.size)
    result = _build(_timings(arrivals, service, 1), 10.0, 300.0)
    assert result.saturated and "the queue kept growing" in result.saturation_reason


def test_a_stall_shows_in_the_tail_when_latency_counts_from_the_schedule() -> None:
    # 1 ms calls at 100 rps, but one 300 ms stall per second: a closed loop would record one
    # slow call per second (1%), the open loop records every request that queued behind it
    arrivals = arrival_times(100.0, 20.0, "constant", seed=0)
    service = np.full(arrivals.size, 0.001)
    service[::100] = 0.300
    result = _build(_timings(arrivals, service, 1), 20.0, 100.0)
    closed_loop_p95 = float(np.quantile(service, 0.95) * 1000)
    assert closed_loop_p95 == pytest.approx(1.0)
    assert result.latency_p95 > 100 and result.latency_p99 > 250


def test_saturation_reasons() -> None:
    assert saturation(100, 100, 0, 0.1, 0.0, 10, 10) == ""
    assert "dropped" in saturation(100, 90, 10, 0.0, 0.0, 10, 1)
    assert "fell 800 ms behind" in saturation(100, 100, 0, 0.0, 0.8, 10, 10)
    assert "kept growing" in saturation(100, 100, 0, 2.0, 0.0, 10, 10)
    assert "only 99 of 100" in saturation(100, 99, 0, 0.0, 0.0, 10, 10)
    t = _timings(np.array([0.0, 0.1]), np.array([0.01, 0.01]), 1)
    t.status[1] = DROPPED
    assert _build(t, 1.0, 2.0).dropped == 1


def _mm1_latencies(seed: int, n: int = 4_000) -> np.ndarray:
    """Time in system (ms) of consecutive M/M/1 requests at rho = 0.7: strongly dependent."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / 140, n))
    response, _ = simulate(rng.exponential(0.005, n), arrivals, 1)
    return np.asarray(response * 1000)


def test_block_verdicts_on_dependent_samples_keep_their_error_rate() -> None:
    # true p95 of M/M/1 at 140 rps, E[S] = 5 ms: ln 20 / 60 = 49.9 ms. A limit 5% above it must
    # rarely FAIL, a limit 5% below it rarely PASS (here: at most 3 of 40 seeded runs each,
    # where the level is 5%); the iid binomial test would err far more often on such data.
    truth = mm1_response_quantile(0.95, 140, 200) * 1000
    wrong_fail = sum(
        percentile_verdict(_mm1_latencies(s), 0.95, truth * 1.05, 0.95)[0].value == "fail"
        for s in range(40)
    )
    wrong_pass = sum(
        percentile_verdict(_mm1_latencies(s), 0.95, truth * 0.95, 0.95)[0].value == "pass"
        for s in range(40)
    )
    assert wrong_fail <= 3 and wrong_pass <= 3
    # far from the limit, the verdict is reached
    assert percentile_verdict(_mm1_latencies(1), 0.95, truth * 3, 0.95)[0].value == "pass"
    assert percentile_verdict(_mm1_latencies(1), 0.95, truth / 3, 0.95)[0].value == "fail"


def test_interval_agrees_with_the_verdict() -> None:
    samples = _mm1_latencies(9)
    verdict, (lo, hi), block = percentile_verdict(samples, 0.95, 200.0, 0.95)
    assert verdict.value == "pass" and hi is not None and hi <= 200.0
    assert lo is not None and lo < float(np.quantile(samples, 0.95)) < hi
    assert block.blocks == 20 and block.size == 200


def test_judging_a_load_result() -> None:
    samples = _mm1_latencies(2)
    limits = [
        Limit("p95", 1000.0),
        Limit("mean", 1e-3),
        Limit("throughput", 100),
        Limit("memory", 5),
    ]
    checks = judge_load(
        samples, limits, confidence=0.95, context="(rps=140, workers=1, pool=threads)",
        saturated="", achieved_rows_per_s=140.0,
    )  # fmt: skip
    assert [(c.metric, c.verdict) for c in checks] == [
        ("p95", "pass"), ("mean", "fail"), ("throughput", "pass"), ("memory", "inconclusive"),
    ]  # fmt: skip
    assert all(c.message.endswith("(rps=140, workers=1, pool=threads)") for c in checks)
    assert checks[0].message.startswith("p95 latency ")
    assert "<= limit 1000 ms (20 blocks of 200 requests) (rps=140" in checks[0].message
    saturated = judge_load(
        samples, limits[:3], confidence=0.95, context="(x)", saturated="the queue kept growing",
        achieved_rows_per_s=140.0,
    )  # fmt: skip
    assert [c.verdict for c in saturated] == ["fail", "fail", "fail"]
    assert all("saturated (the queue kept growing)" in c.message for c in saturated)
    few = judge_load(
        samples[:300], [Limit("p95", 1000.0)], confidence=0.95, context="(x)", saturated="",
        achieved_rows_per_s=1.0,
    )  # fmt: skip
    assert few[0].verdict == "inconclusive"
    assert f"needs at least {min_requests(0.95)}" in few[0].message
