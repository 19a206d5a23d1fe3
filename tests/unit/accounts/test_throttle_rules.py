from __future__ import annotations

from portal.domain.accounts.rules import LoginThrottlePolicy


def test_free_failures_then_doubling_delays_up_to_the_cap() -> None:
    policy = LoginThrottlePolicy(free_failures=5, max_delay_seconds=300)
    assert [policy.delay_after(n) for n in range(5)] == [0] * 5
    assert [policy.delay_after(n) for n in range(5, 10)] == [1, 2, 4, 8, 16]
    assert policy.delay_after(14) == 300
    assert policy.delay_after(40) == 300


def test_wait_left_counts_from_the_last_failure_in_whole_seconds() -> None:
    policy = LoginThrottlePolicy(free_failures=2, max_delay_seconds=60)
    assert policy.wait_left(1, last_failure_at=1000.0, now=1000.0) == 0
    assert policy.wait_left(3, last_failure_at=1000.0, now=1000.5) == 2
    assert policy.wait_left(3, last_failure_at=1000.0, now=1002.0) == 0
