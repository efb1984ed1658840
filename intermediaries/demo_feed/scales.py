"""How big and how long: the two scales, their portfolios' activity, and the period a feed covers."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

SCALES = ("small", "large")
YEARS = 3

LARGE = {"instruments": 300, "intermediaries": 500, "clients": 50_000, "transactions": 2_000_000}


@dataclass(frozen=True)
class Profile:
    """How busy a scale's portfolios are; tuned so the large feed has about 2,000,000 transactions."""

    opening_months: int  # portfolios open within this many months of the start
    saver_share: float  # share of portfolios with a monthly savings plan
    trade_chance: float  # chance of a discretionary trade in a month
    top_up_chance: float
    withdrawal_chance: float
    transfer_chance: float  # chance a portfolio starts with securities transferred in


SMALL_PROFILE = Profile(9, 0.5, 0.18, 0.04, 0.015, 0.0)
LARGE_PROFILE = Profile(30, 0.08, 0.07, 0.03, 0.012, 0.01)


def period(until: date | None) -> tuple[date, date]:
    """From the first day of the month three years ago until the last business day before today."""
    if until is None:
        until = timezone.localdate() - timedelta(days=1)
    while until.weekday() >= 5:
        until -= timedelta(days=1)
    month = until.year * 12 + until.month - 1 - YEARS * 12
    return date(month // 12, month % 12 + 1, 1), until
