"""The statutory clock of a Subject Access Request (UK GDPR Art. 12(3), ICO guidance).

Pure functions, no database: the rules are easy to get subtly wrong, so they live
where they can be tested on their own.

- The month runs from the day the request is received, or from the day requested
  ID arrives ("the clock stops" until then), to the same date next month.
- If that date does not exist (31 Jan -> 31 Feb), it is the last day of that month.
- If it falls on a weekend or an England and Wales bank holiday, the next working day.
- Days spent waiting for clarification are added (the clock pauses).
- It can be extended by two further months for complex or numerous requests.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays

EXTENSION_MONTHS = 2


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_calendar_months(start: date, months: int) -> date:
    """Same date `months` later, or the last day of that month if the date does not exist."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


def add_working_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


@dataclass(frozen=True)
class SarClock:
    """What the due date depends on. `id_received_on` is None while ID is awaited."""

    received_on: date
    id_required: bool = False
    id_received_on: date | None = None
    paused_days: int = 0
    extended: bool = False

    @property
    def clock_started_on(self) -> date | None:
        if not self.id_required:
            return self.received_on
        return self.id_received_on

    @property
    def running(self) -> bool:
        return self.clock_started_on is not None


def due_date(clock: SarClock) -> date | None:
    """The statutory response date, or None while the clock waits for requested ID."""
    start = clock.clock_started_on
    if start is None:
        return None
    months = 1 + (EXTENSION_MONTHS if clock.extended else 0)
    anniversary = add_calendar_months(start, months)
    return next_working_day(anniversary + timedelta(days=clock.paused_days))


def extension_deadline(clock: SarClock) -> date | None:
    """An extension must be told to the resident within the first month."""
    return due_date(
        SarClock(
            clock.received_on,
            clock.id_required,
            clock.id_received_on,
            clock.paused_days,
            extended=False,
        )
    )


def days_left(clock: SarClock, today: date) -> int | None:
    due = due_date(clock)
    return None if due is None else (due - today).days
