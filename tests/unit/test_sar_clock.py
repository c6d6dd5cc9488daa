"""The statutory SAR clock: ICO rules, month ends, leap years, bank holidays."""

from datetime import date

import pytest

from casework.sar_clock import (
    SarClock,
    add_calendar_months,
    due_date,
    extension_deadline,
    is_working_day,
    next_working_day,
)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 11, 3), date(2026, 12, 3)),  # ordinary Thursday -> Thursday
        (date(2026, 9, 4), date(2026, 10, 5)),  # 4 Oct is a Sunday -> Monday
        (date(2026, 1, 31), date(2026, 3, 2)),  # no 31 Feb -> 28 Feb (Sat) -> Mon 2 Mar
        (date(2027, 1, 31), date(2027, 3, 1)),  # 28 Feb 2027 is a Sunday -> Mon 1 Mar
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year: 29 Feb 2028 is a Tuesday
        (date(2026, 3, 31), date(2026, 4, 30)),  # no 31 April -> 30 April
        (date(2026, 11, 25), date(2026, 12, 29)),  # 25 Dec holiday, 26 Sat, 28 Boxing (obs.)
        (date(2026, 3, 6), date(2026, 4, 7)),  # 6 Apr 2026 is Easter Monday -> Tuesday
        (date(2026, 7, 31), date(2026, 9, 1)),  # 31 Aug 2026: late summer bank holiday
        (date(2026, 12, 31), date(2027, 2, 1)),  # 31 Jan 2027 is a Sunday; year rolls over
    ],
)
def test_one_calendar_month_rolled_to_a_working_day(received: date, due: date) -> None:
    assert due_date(SarClock(received_on=received)) == due


def test_clock_waits_for_requested_id_and_starts_when_it_arrives() -> None:
    waiting = SarClock(received_on=date(2026, 11, 2), id_required=True)
    assert due_date(waiting) is None
    assert not waiting.running
    arrived = SarClock(date(2026, 11, 2), id_required=True, id_received_on=date(2026, 11, 10))
    assert due_date(arrived) == date(2026, 12, 10)


def test_pause_for_clarification_adds_the_paused_days() -> None:
    clock = SarClock(received_on=date(2026, 11, 3), paused_days=7)
    assert due_date(clock) == date(2026, 12, 10)


def test_extension_adds_two_further_months() -> None:
    clock = SarClock(received_on=date(2026, 11, 3), extended=True)
    assert due_date(clock) == date(2027, 2, 3)
    assert extension_deadline(clock) == date(2026, 12, 3)


@pytest.mark.parametrize(
    ("received", "extended_due"),
    [
        # The ICO: "extend the time to respond by a further two months". The two months run
        # on from the first month's calendar end date, before its weekend roll.
        (date(2026, 11, 3), date(2027, 2, 3)),  # 3 Dec + 2 months
        (date(2026, 1, 31), date(2026, 4, 28)),  # month ends 28 Feb -> 28 Apr, not 30 Apr
        # 31 Jan 2027 is a Sunday (first month due Mon 1 Feb); the extension runs from
        # 31 Jan, to 31 Mar, not from the rolled 1 Feb to 1 Apr.
        (date(2026, 12, 31), date(2027, 3, 31)),
        # 30 Jun -> 30 Aug 2026, a Sunday; Mon 31 Aug is a bank holiday: Tue 1 Sep.
        (date(2026, 5, 30), date(2026, 9, 1)),
    ],
)
def test_extension_end_date(received: date, extended_due: date) -> None:
    assert due_date(SarClock(received_on=received, extended=True)) == extended_due


def test_calendar_month_arithmetic() -> None:
    assert add_calendar_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_calendar_months(date(2026, 8, 31), 1) == date(2026, 9, 30)
    assert add_calendar_months(date(2027, 11, 30), 3) == date(2028, 2, 29)


def test_working_days_use_england_and_wales_bank_holidays() -> None:
    assert not is_working_day(date(2026, 5, 25))  # spring bank holiday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert is_working_day(date(2026, 3, 17))  # St Patrick's Day: not in England
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
