"""The stop rule, fed synthetic step times (no torch)."""

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
