"""The stop rule, fed synthetic step times (no torch)."""

import pytest

from tunegrid_trainer.stop import StopRule


def feed_steps(rule: StopRule, durations: list[float]):
    t, verdicts = 1000.0, []
    for i, d in enumerate(durations):
        verdicts.append(rule.feed(i, t, t + d))
        t += d
        if verdicts[-1].stop:
            break
    return verdicts


def test_step_bounds_complete_the_window_after_warmup():
    rule = StopRule(warmup_steps=2, window_steps=3, max_steps=100, max_seconds=1e9)
    verdicts = feed_steps(rule, [1.0] * 10)
    assert [v.phase for v in verdicts] == ["warmup", "warmup", "window", "window", "window"]
    assert [v.stop for v in verdicts] == [None] * 4 + ["window_complete"]
    assert (rule.steps, rule.warmup_count, rule.window_count) == (5, 2, 3)


def test_zero_warmup_starts_the_window_at_step_zero():
    rule = StopRule(warmup_steps=0, window_steps=1, max_steps=100, max_seconds=1e9)
    assert feed_steps(rule, [1.0])[0].phase == "window"
    assert rule.warmup_count == 0


def test_seconds_bounds_use_step_start_and_end_times():
    # warm-up ends at the first step starting ≥ 2.5 s after step 0: step 3 (starts at +3 s)
    rule = StopRule(warmup_seconds=2.5, window_seconds=2.0, max_steps=100, max_seconds=1e9)
    verdicts = feed_steps(rule, [1.0] * 10)
    assert [v.phase for v in verdicts] == ["warmup"] * 3 + ["window"] * 2
    assert verdicts[-1].stop == "window_complete"
    assert rule.warmup_count == 3


def test_max_steps_ends_a_cell_whose_window_never_fills():
    rule = StopRule(warmup_steps=5, window_steps=50, max_steps=8, max_seconds=1e9)
    verdicts = feed_steps(rule, [1.0] * 20)
    assert len(verdicts) == 8 and verdicts[-1].stop == "max_steps"
    assert (rule.warmup_count, rule.window_count) == (5, 3)


def test_max_seconds_counts_from_the_first_step_start():
    rule = StopRule(warmup_steps=100, window_steps=5, max_steps=1000, max_seconds=3.5)
    verdicts = feed_steps(rule, [1.0] * 20)
    assert len(verdicts) == 4 and verdicts[-1].stop == "max_seconds"
    assert rule.warmup_count == 4  # window never began: all steps were warm-up


def test_window_complete_wins_over_a_simultaneous_limit():
    rule = StopRule(warmup_steps=1, window_steps=2, max_steps=3, max_seconds=1e9)
    assert feed_steps(rule, [1.0] * 5)[-1].stop == "window_complete"


# ---------------------------------------------------------------- statistics and adaptive stop

import math  # noqa: E402

import numpy as np  # noqa: E402

from tunegrid_trainer.stop import MAX_BATCHES, T975, mser5_cut, rate_ci  # noqa: E402


def iid_rate_half_width(tokens, t_start, t_end) -> float:
    """The naive interval that treats every step as independent (w batches of one step, normal
    1.96): what batch means must not be narrower than on correlated data."""
    tok = np.asarray(tokens, dtype=float)
    dur = np.diff(np.asarray(t_end, dtype=float), prepend=float(t_start[0]))
    r = tok.sum() / dur.sum()
    w = len(tok)
    return 1.96 * math.sqrt(float(((tok - r * dur) ** 2).sum()) / (w - 1) / w) / (dur.sum() / w)


def series(durations, tokens):
    """Contiguous steps from t = 1000 s: (tokens, t_start, t_end) lists."""
    t_start, t_end, t = [], [], 1000.0
    for d in durations:
        t_start.append(t)
        t += d
        t_end.append(t)
    return list(tokens), t_start, t_end


def feed_series(rule: StopRule, durations, tokens):
    t, verdicts = 1000.0, []
    for i, (d, n) in enumerate(zip(durations, tokens)):
        verdicts.append(rule.feed(i, t, t + d, n))
        t += d
        if verdicts[-1].stop:
            break
    return verdicts


def planted_transient(rng, steps=300, transient=40):
    """1000-token steps at ~0.1 s, the first `transient` steps ramping from 3× slower."""
    slow = np.concatenate([np.linspace(3.0, 1.0, transient), np.ones(steps - transient)])
    return 0.1 * slow * (1 + 0.03 * rng.standard_normal(steps)), [1000] * steps


def test_mser5_finds_a_planted_warmup_transient():
    durations, tokens = planted_transient(np.random.default_rng(1))
    rates = [n / d for n, d in zip(tokens, durations)]
    cut = mser5_cut(rates)
    assert cut % 5 == 0 and 25 <= cut <= 50, cut
    assert mser5_cut(rates[60:]) <= 10  # a series with no transient keeps (almost) everything


def test_mser5_needs_two_batches():
    assert mser5_cut([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]) == 0


def test_batch_means_ci_is_wider_than_the_iid_one_on_an_ar1_series():
    rng = np.random.default_rng(7)
    e = np.zeros(400)
    for i in range(1, 400):  # AR(1), φ = 0.9: slow drifts that neighbouring steps share
        e[i] = 0.9 * e[i - 1] + rng.standard_normal()
    durations = 0.1 * (1 + 0.02 * e)
    tok, t_start, t_end = series(durations, [1000] * 400)
    ci = rate_ci(tok, t_start, t_end)
    naive = iid_rate_half_width(tok, t_start, t_end)
    assert ci.batches == 20
    assert ci.tok_s == pytest.approx(400 * 1000 / durations.sum())
    assert ci.half_width > 2 * naive


def test_batch_means_ci_matches_iid_scale_on_independent_steps():
    rng = np.random.default_rng(8)
    durations = 0.1 * (1 + 0.02 * rng.standard_normal(400))
    ci = rate_ci(*series(durations, [1000] * 400))
    naive = iid_rate_half_width(*series(durations, [1000] * 400))
    assert 0.5 * naive < ci.half_width < 2 * naive


def test_ci_needs_two_steps():
    assert rate_ci([100], [0.0], [1.0]) is None


def test_adaptive_window_stops_once_the_ci_reaches_the_target_after_the_minimum():
    rng = np.random.default_rng(3)
    durations, tokens = 0.1 * (1 + 0.05 * rng.standard_normal(5000)), [1000] * 5000
    rule = StopRule(warmup_steps=5, window_adaptive=(0.02, 10.0), max_steps=10_000, max_seconds=1e9)
    verdicts = feed_series(rule, durations, tokens)
    assert verdicts[-1].stop == "window_complete"
    c = rule.cut()
    window_seconds = rule.t_end[-1] - rule.t_start[c]
    assert window_seconds >= 10.0 and window_seconds < 12.0  # ±5% per step: the target is met at the minimum
    assert rule.ci.rel <= 0.02 and rule.window_ci() == rule.ci


def test_adaptive_window_that_never_settles_ends_at_the_limit():
    rng = np.random.default_rng(4)
    e = np.zeros(3000)
    for i in range(1, 3000):
        e[i] = 0.98 * e[i - 1] + rng.standard_normal()
    durations = 0.1 * np.exp(0.2 * e)  # strongly drifting throughput
    rule = StopRule(warmup_steps=0, window_adaptive=(0.005, 5.0), max_steps=100_000, max_seconds=60.0)
    verdicts = feed_series(rule, durations, [1000] * 3000)
    assert verdicts[-1].stop == "max_seconds"
    assert rule.window_ci().rel > 0.005


def test_detected_warmup_cuts_the_transient_and_fills_a_fixed_window_after_it():
    durations, tokens = planted_transient(np.random.default_rng(5))
    rule = StopRule(warmup_detect=(0.5, 30.0), window_steps=150, max_steps=1000, max_seconds=1e9)
    verdicts = feed_series(rule, durations, tokens)
    assert verdicts[-1].stop == "window_complete"
    assert 25 <= rule.warmup_count <= 50
    assert rule.window_count == rule.steps - rule.warmup_count >= 150
    assert verdicts[0].phase == "warmup" and verdicts[-1].phase == "window"


def test_detected_warmup_never_cuts_before_the_floor_or_after_the_cap():
    durations, tokens = planted_transient(np.random.default_rng(6))
    floor = StopRule(warmup_detect=(10.0, 30.0), window_steps=100, max_steps=1000, max_seconds=1e9)
    feed_series(floor, durations, tokens)
    assert floor.warmup_count == floor.floor_count and floor.t_start[floor.warmup_count] >= 1000.0 + 10.0
    cap = StopRule(warmup_detect=(0.0, 1.0), window_steps=100, max_steps=1000, max_seconds=1e9)
    feed_series(cap, durations, tokens)
    assert cap.warmup_count == cap.cap_count < 25
    assert cap.t_start[cap.warmup_count - 1] < 1000.0 + 1.0 <= cap.t_start[cap.warmup_count]


def test_detected_warmup_and_adaptive_window_need_token_counts():
    rule = StopRule(warmup_detect=(0.0, 10.0), window_steps=3, max_steps=10, max_seconds=1e9)
    with pytest.raises(AssertionError, match="need tokens"):
        rule.feed(0, 0.0, 1.0)


# ---------------------------------------------------------------- the CI each step event reports


def test_each_window_step_reports_the_ci_the_rule_stops_on():
    rng = np.random.default_rng(5)
    durations, tokens = 0.1 * (1 + 0.05 * rng.standard_normal(5000)), [1000] * 5000
    rule = StopRule(warmup_steps=5, window_adaptive=(0.02, 10.0), max_steps=10_000, max_seconds=1e9)
    reported = []
    t = 1000.0
    for i, (d, n) in enumerate(zip(durations, tokens)):
        verdict = rule.feed(i, t, t + d, n)
        reported.append(rule.ci_half_rel)
        t += d
        if verdict.stop:
            break
    assert reported[:6] == [None] * 6  # warm-up, then a window of one step: no interval yet
    assert reported[6] is not None and reported[6] > 0
    assert reported[-1] == rule.ci.rel == rule.window_ci().rel  # the stop's own interval, not an estimate of it
    assert reported[-1] <= 0.02 < max(r for r in reported if r is not None)


def test_a_fixed_window_reports_its_ci_too_and_freezes_it_after_the_window():
    rule = StopRule(warmup_steps=2, window_steps=40, max_steps=100, max_seconds=1e9)
    rng = np.random.default_rng(6)
    t = 0.0
    for i in range(60):
        d = 0.1 * (1 + 0.1 * rng.standard_normal())
        rule.feed(i, t, t + d, 1000)
        t += d
        if i == 41:
            at_end = rule.ci_half_rel
    assert at_end == pytest.approx(rule.window_ci().rel)  # the window's 40 steps
    assert rule.ci_half_rel == at_end  # "after" steps leave it as the window ended


def test_the_ci_is_refreshed_on_a_schedule_that_thins_out_with_the_steps():
    rule = StopRule(warmup_steps=0, window_steps=100_000, max_steps=100_000, max_seconds=1e9)
    t, changes = 0.0, 0
    rng = np.random.default_rng(9)
    for i in range(2000):
        d = 0.1 * (1 + 0.1 * rng.standard_normal())
        before = rule.ci_half_rel
        rule.feed(i, t, t + d, 1000)
        t += d
        changes += rule.ci_half_rel != before
    assert 256 < changes < 2000 * 0.5  # every step while short, then every steps/256 steps


def test_one_constructor_builds_the_rule_from_a_decoded_measure():
    from tunegrid_trainer.spec import decode_measure
    from tunegrid_trainer.stop import rule_for

    rule = rule_for(
        decode_measure(
            {
                "warmup": {"detect": {"floor_seconds": 1, "cap_seconds": 9}},
                "window": {"adaptive": {"min_seconds": 5}},
                "ci_target": 0.03,
                "max_steps": 70,
                "max_seconds": 80,
            }
        )
    )
    assert (rule.warmup_detect, rule.window_adaptive, rule.max_steps, rule.max_seconds) == ((1, 9), (0.03, 5), 70, 80)
    old = decode_measure(
        {"warmup": {"steps": 1}, "window": {"adaptive": {"ci_target": 0.04, "min_seconds": 2}}, "max_steps": 7, "max_seconds": 8}
    )  # as specs before #19 wrote it
    assert old.ci_target == 0.04 and rule_for(old).window_adaptive == (0.04, 2)


# ---------------------------------------------------------------- the t table


def test_the_t_table_is_scipys_student_t_quantiles():
    stats = pytest.importorskip("scipy.stats", reason="scipy is not in the trainer's environment: the t table is unchecked here")
    for df, t in enumerate(T975, start=1):
        assert t == pytest.approx(stats.t.ppf(0.975, df), abs=1e-7), df
    assert len(T975) == MAX_BATCHES - 1  # every k the batch means can use
