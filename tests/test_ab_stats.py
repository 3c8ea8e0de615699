"""The ratio tests, Holm's adjustment, block helpers and the verdict rule in ``stats``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from pytest_mlperf import stats
from pytest_mlperf.numbers import level

RNG = np.random.default_rng(7)
A = np.exp(RNG.normal(0.0, 0.1, 12))
B = A * np.exp(RNG.normal(0.05, 0.05, 12))


def test_paired_test_is_the_paired_t_test_on_log_ratios() -> None:
    result = stats.paired_ratio_test(A, B, confidence=0.9)
    d = np.log(B / A)
    assert result.ratio == pytest.approx(math.exp(d.mean()))
    reference = sps.ttest_rel(np.log(B), np.log(A), alternative="greater")
    assert result.p_greater == pytest.approx(reference.pvalue)
    assert result.p_less == pytest.approx(1 - reference.pvalue)
    half = sps.t.ppf(0.95, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    assert result.ci == pytest.approx((math.exp(d.mean() - half), math.exp(d.mean() + half)))
    assert result.n == 12 and result.confidence == 0.9


def test_wilcoxon_option_takes_its_p_values_from_the_signed_rank_test() -> None:
    result = stats.paired_ratio_test(A, B, method="wilcoxon")
    d = np.log(B / A)
    assert result.p_greater == pytest.approx(sps.wilcoxon(d, alternative="greater").pvalue)
    assert result.p_less == pytest.approx(sps.wilcoxon(d, alternative="less").pvalue)
    assert result.ratio == stats.paired_ratio_test(A, B).ratio  # same estimate, robust p
    assert stats.paired_ratio_test(A, A, method="wilcoxon").p_greater == 1.0


def test_identical_or_constant_blocks_give_degenerate_but_sane_answers() -> None:
    same = stats.paired_ratio_test(A, A)
    assert (same.ratio, same.ci, same.p_greater, same.p_less) == (1.0, (1.0, 1.0), 1.0, 1.0)
    slower = stats.paired_ratio_test(A, 1.2 * A)
    assert slower.ratio == pytest.approx(1.2) and slower.p_greater < 1e-100 and slower.p_less == 1.0


def test_unpaired_test_is_welch_on_logs_and_run_spread_widens_it() -> None:
    result = stats.unpaired_ratio_test(A, B[:9])
    reference = sps.ttest_ind(np.log(B[:9]), np.log(A), equal_var=False, alternative="greater")
    assert result.p_greater == pytest.approx(reference.pvalue)
    assert result.ratio == pytest.approx(math.exp(np.log(B[:9]).mean() - np.log(A).mean()))
    assert result.n == 9
    wide = stats.unpaired_ratio_test(A, B[:9], run_sd=0.05)
    assert wide.ratio == result.ratio
    assert wide.ci[0] < result.ci[0] and wide.ci[1] > result.ci[1]
    assert wide.p_greater > result.p_greater and "run-to-run" in wide.method
    estimated = stats.unpaired_ratio_test(A, B[:9], run_sd=0.05, run_df=2)
    assert estimated.p_greater > wide.p_greater  # an estimated spread counts its uncertainty


def test_a_known_run_spread_alone_gives_a_normal_test() -> None:
    result = stats.unpaired_ratio_test([1.0, 1.0], [1.1, 1.1], run_sd=0.05)
    z = math.log(1.1) / math.sqrt(2 * 0.05**2)
    assert result.p_greater == pytest.approx(sps.norm.sf(z))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stats.paired_ratio_test([1.0], [1.0]), "at least 2 pairs"),
        (lambda: stats.paired_ratio_test([1.0, 2.0], [1.0]), "differ in number"),
        (lambda: stats.paired_ratio_test([1.0, 0.0], [1.0, 1.0]), "finite and positive"),
        (lambda: stats.paired_ratio_test(A, B, method="sign"), "'t' or 'wilcoxon'"),
        (lambda: stats.unpaired_ratio_test([1.0], [1.0, 2.0]), "at least 2 blocks"),
        (lambda: stats.unpaired_ratio_test(A, B, run_sd=-1.0), "run_sd"),
        (lambda: stats.unpaired_ratio_test(A, B, run_df=0.0), "run_df"),
        (lambda: stats.holm_adjust([0.5, 1.5]), "in [0, 1]"),
        (lambda: stats.block_view([1.0], 0), "block_size"),
    ],
)
def test_bad_input_is_a_clear_value_error(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()  # type: ignore[operator]


def test_holm_adjustment_on_a_worked_example() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04) = 0.06
    assert stats.holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm_adjust([0.9, 0.8]) == [1.0, 1.0]
    assert stats.holm_adjust([]) == []


def test_holm_keeps_the_family_wise_error_rate() -> None:
    rng = np.random.default_rng(0)
    families = rng.random((4000, 12))  # 12 true null hypotheses per run
    rejected = [min(stats.holm_adjust(p)) <= 0.05 for p in families]
    assert np.mean(rejected) <= 0.055


def test_blocks_are_consecutive_and_use_the_reports_estimator() -> None:
    samples = np.arange(1.0, 46.0)  # 45 samples, blocks of 20: the last 5 are dropped
    assert stats.block_view(samples, 20).tolist() == [
        list(np.arange(1.0, 21.0)),
        list(np.arange(21.0, 41.0)),
    ]
    assert stats.block_percentiles(samples, 20, 0.95).tolist() == [19.0, 39.0]
    assert stats.block_percentiles(samples[::-1], 20, 0.5).tolist() == [35.0, 15.0]
    assert stats.block_percentiles(samples[:10], 20, 0.5).size == 0


def _test(ratio: float, lo: float, hi: float, p_greater: float, p_less: float) -> stats.RatioTest:
    return stats.RatioTest(ratio, (lo, hi), 0.98, p_greater, p_less, 10, "t")


@pytest.mark.parametrize(
    ("test", "higher_is_worse", "p_high", "verdict"),
    [
        (_test(1.10, 1.06, 1.14, 0.001, 0.999), True, None, "regression"),
        (_test(1.10, 0.95, 1.25, 0.08, 0.92), True, None, "unknown"),  # beyond, not significant
        (_test(1.03, 1.01, 1.05, 0.001, 0.999), True, None, "same"),  # significant, within
        (_test(1.02, 0.95, 1.09, 0.10, 0.90), True, None, "same"),
        (_test(1.02, 0.95, 1.09, 0.10, 0.90), True, 0.15, "unknown"),  # Pinpoint's grey zone
        (_test(0.90, 0.86, 0.94, 0.999, 0.001), True, None, "improvement"),
        (_test(0.90, 0.86, 0.94, 0.999, 0.001), False, None, "regression"),  # throughput fell
        (_test(1.10, 1.06, 1.14, 0.001, 0.999), False, None, "improvement"),
    ],
)
def test_ratio_verdict_needs_significance_and_size(
    test: stats.RatioTest, higher_is_worse: bool, p_high: float | None, verdict: str
) -> None:
    assert (
        stats.ratio_verdict(
            test, tolerance=0.05, alpha=0.01, higher_is_worse=higher_is_worse, p_high=p_high
        )
        == verdict
    )


def test_ratio_verdict_uses_adjusted_p_values_when_given() -> None:
    test = _test(1.10, 1.06, 1.14, 0.001, 0.999)
    assert stats.ratio_verdict(test, tolerance=0.05, alpha=0.01, p_worse=0.2) == "unknown"


def test_a_wide_interval_is_not_called_the_same_before_the_last_look() -> None:
    wide = stats.RatioTest(1.02, (0.75, 1.44), 0.98, 0.4, 0.6, 10, "paired t")
    assert stats.ratio_verdict(wide, tolerance=0.05, alpha=0.005, p_high=0.15) == "unknown"
    assert stats.ratio_verdict(wide, tolerance=0.05, alpha=0.005) == "same"  # at the last look
    narrow = stats.RatioTest(1.01, (0.98, 1.04), 0.98, 0.3, 0.7, 10, "paired t")
    assert stats.ratio_verdict(narrow, tolerance=0.05, alpha=0.005, p_high=0.15) == "same"


@pytest.mark.parametrize(
    ("confidence", "text"),
    [(0.9, "90%"), (0.95, "95%"), (0.99, "99%"), (1 - 0.01 / 3, "99.7%"), (0.99995, "99.995%")],
)
def test_confidence_levels_print_with_the_digits_they_need(confidence: float, text: str) -> None:
    assert level(confidence) == text


@given(st.floats(min_value=0.5, max_value=0.99999))
def test_a_level_below_one_never_prints_as_100_percent(confidence: float) -> None:
    text = level(confidence)
    assert text.endswith("%") and float(text[:-1]) < 100.0
    assert float(text[:-1]) == pytest.approx(100 * confidence, abs=0.05)
