"""Pure outbox rules: retry schedule, giving up, addresses, secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.domain.outbox import rules


def test_retry_delay_doubles_up_to_two_hours() -> None:
    minutes = [rules.retry_delay(n) / timedelta(minutes=1) for n in range(1, 11)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]


def test_after_the_last_attempt_the_email_fails() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert rules.after_failure(1, now) == (rules.PENDING, now + timedelta(minutes=1))
    assert rules.after_failure(rules.MAX_ATTEMPTS - 1, now)[0] == rules.PENDING
    assert rules.after_failure(rules.MAX_ATTEMPTS, now) == (rules.FAILED, now)
    # The retries span several hours: a short SMTP outage never loses an e-mail.
    total = sum((rules.retry_delay(n) for n in range(1, rules.MAX_ATTEMPTS)), timedelta())
    assert total > timedelta(hours=5)


def test_addresses_are_joined_without_repeats() -> None:
    stored = rules.join_addresses([" a@example.fr", "B@example.fr", "A@EXAMPLE.FR", ""])
    assert stored == "a@example.fr;B@example.fr"
    assert rules.split_addresses(stored) == ["a@example.fr", "B@example.fr"]


def test_only_single_use_links_are_scrubbed() -> None:
    assert rules.holds_secret("password-reset:abc")
    assert not rules.holds_secret("report:1:2")
