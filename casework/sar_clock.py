"""The statutory clock of a Subject Access Request (UK GDPR Art. 12(3), ICO guidance).

Pure functions, no database: the rules are easy to get subtly wrong, so they live
where they can be tested on their own.

- The month runs from the day the request is received, or from the day requested
  ID arrives ("the clock stops" until then), to the same date next month. The ICO's
  wording since August 2019: "calculate the time limit from the day you receive the
  request (whether it is a working day or not) until the corresponding calendar date in
  the next month" (received 3 September: due 3 October). Its earlier wording counted
  from the day after receipt; that is no longer the guidance and is not used here.
- If that date does not exist (31 Jan -> 31 Feb), it is the last day of that month.
- If it falls on a weekend or an England and Wales bank holiday, the next working day.
- Days spent waiting for clarification are added (the clock pauses).
- Extension: the ICO says "you can extend the time to respond by a further two months if
  the request is complex or you have received a number of requests from the
  individual" (Art. 12(3): "by two further months"). The further two months run on from
  the end of the first month (its calendar date, before any weekend roll), to the same
  date two months later, or that month's last day; then paused days and the working-day
  roll apply once. Received 31 January 2026: first month ends 28 February, extended to
  28 April, not 30 April (three months from receipt): of the two readings of the
  guidance this one is never late under either.
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
    end = add_calendar_months(start, 1)  # calendar date, not yet rolled to a working day
    if clock.extended:
        end = add_calendar_months(end, EXTENSION_MONTHS)
    return next_working_day(end + timedelta(days=clock.paused_days))


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
