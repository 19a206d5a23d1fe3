"""The demo's booking periods find open days whatever the date it is loaded on: a demo
loaded on 20 December once met no 6-12 Wednesday left for its last periods (the data
stopped at the end of February) and its load failed; from September, the Toussaint
holidays closed the draw period's only Wednesdays."""

from __future__ import annotations

from datetime import date, timedelta

from portal.demo import _ALSH, _at, _build_plan
from portal.demo_periods import FIRST_DAY_OFFSET, PERIODS


def test_every_demo_period_has_its_days_on_every_date_of_a_year() -> None:
    wanted = max(spec.open_days[1] for spec in PERIODS)
    for offset in range(366):
        today = date(2026, 12, 1) + timedelta(days=offset)
        plan = _build_plan(today, _at(today, 10))
        start = today + timedelta(days=FIRST_DAY_OFFSET)
        open_days = [d for d, is_open in plan.days[_ALSH] if is_open and d >= start]
        assert len(open_days) >= wanted, (today, open_days)
