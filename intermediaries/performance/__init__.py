"""Portfolio valuation and performance arithmetic, in pure Python.

Nothing here touches the ORM or the database: the valuation service loads rows, turns them into
the plain dataclasses of `data`, calls these functions and stores what they return. That keeps the
arithmetic fast (a full replay of years of bookings is a single pass) and testable by hand.

The package, in the order a figure is made:

* `data`: bookings (`Txn`), daily values (`DayValue`), holding spans, the state a replay resumes
  from, the flags, the constants;
* `fx`: rates carried forward and amounts converted into a portfolio's currency;
* `replay`: `value_portfolio`, one portfolio replayed and valued day by day;
* `aggregate`: several portfolios chain-linked as one (a client, a book);
* `returns` and `xirr`: time- and money-weighted returns over a period;
* `periods`: the reporting periods (1M, MTD, YTD, 1Y, 3Y, MAX) and their length in years.

Conventions
-----------
* Money, quantities, prices, rates and returns are `decimal.Decimal`, never float. Every public
  function computes in a local decimal context with 28 significant digits. The aggregates and period
  figures do not round their results; storing (and quantizing to the model's decimal places) is
  the caller's job.
* `value_portfolio` is the exception, on purpose: what it carries from one day to the next is kept
  at the precision `Valuation` and `Holding` store it with (see `replay`). So a stored day is a
  complete state: a `ResumeState` built from it continues the replay and gives the same figures,
  to the last digit, as a replay from the first booking.
* FX rates follow `intermediaries.models.FxRate`: units of a currency per 1 EUR; EUR is always 1.
* Flags use the bit values of `Valuation.Flag`, plus SHORT_POSITION (64), which this package adds.

Time-weighted return (chain-linked daily):

    r_t = (V_t + Out_t) / (V_{t-1} + In_t) - 1          twr_index_t = twr_index_{t-1} * (1 + r_t)

Inflows (deposit, transfer in) count at the start of the day, outflows (withdrawal, transfer out)
at the end. Dividends, interest, fees, fee refunds and taxes are not flows: they are performance;
so are write-offs (a loss). Splits change quantities, not value. A reversal and the booking it
cancels are left out. A transfer between two portfolios of one client is a flow of each portfolio
but not of their aggregate. When the day starts with nothing (`V_{t-1} + In_t <= 0`) the return is
undefined; it is taken as 0 and the day is flagged NO_START_VALUE.

Money-weighted return: the XIRR of the period's flows, each dated at the close it belongs to
(`returns.mwr_flows`), compounded back over the period to a cumulative figure
(`money_weighted`), so that without flows it equals the time-weighted return of the same days.
Period returns are cumulative; from a year on they are also annualised (`annualise_period`, GIPS).
"""

from .aggregate import aggregate, chain_link
from .data import (
    BASE_CURRENCY,
    QUANTITY_PLACES,
    DayValue,
    Flag,
    HoldingSpan,
    PerformanceInputError,
    PortfolioHistory,
    ResumePosition,
    ResumeState,
    Txn,
    TxnType,
    effective,
    fallback_prices,
    resume_state,
)
from .fx import convert, rate_on
from .periods import PERIODS, covers_a_year, period_bounds, period_years
from .replay import valuation_days, value_portfolio
from .returns import (
    annualise,
    annualise_period,
    daily_return,
    index_before,
    money_weighted,
    mwr,
    mwr_flows,
    twr,
)
from .xirr import xirr

__all__ = [
    "BASE_CURRENCY",
    "PERIODS",
    "QUANTITY_PLACES",
    "DayValue",
    "Flag",
    "HoldingSpan",
    "PerformanceInputError",
    "PortfolioHistory",
    "ResumePosition",
    "ResumeState",
    "Txn",
    "TxnType",
    "aggregate",
    "annualise",
    "annualise_period",
    "chain_link",
    "convert",
    "covers_a_year",
    "daily_return",
    "effective",
    "fallback_prices",
    "index_before",
    "money_weighted",
    "mwr",
    "mwr_flows",
    "period_bounds",
    "period_years",
    "rate_on",
    "resume_state",
    "twr",
    "valuation_days",
    "value_portfolio",
    "xirr",
]
