"""The money of instalment plans: schedules, total cost of credit and the APR (docs/bnpl-pricing.md).

Pure functions over `Decimal` and `date`; no models, no database. The offers:

- ``pay_in_4``: four interest-free payments every 14 days, the first on the start date (the day the
  shop ships, as BNPL providers take the first quarter at shipment), then start + 14, + 28, + 42 days.
- ``monthly_3`` … ``monthly_24``: the annuity method at the nominal rate configured in
  ``settings.BNPL_NOMINAL_RATES``; the first instalment is due one month after the start date, on the
  same day of the month (clamped to the month's last day: 31 January → 28/29 February → 31 March).

Amounts are rounded to the cent with ROUND_HALF_UP; the rounding remainder goes to the last
instalment, so the principal column adds up to the amount exactly. The APR is the rate X that solves
the equation of the Consumer Credit Directive (2008/48/EC Annex I, 2023/2225 Annex III) with time
counted in years of 12 equal months (or 52 weeks, or 365/366 days), rounded to one decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from functools import lru_cache
from math import lcm

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# ISO 4217 minor units of the currencies plans are offered in. Only two-decimal currencies for now:
# a currency with 0 or 3 minor units needs its own limits and display, not just another row.
CURRENCY_MINOR_UNITS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "PLN": 2, "CZK": 2, "SEK": 2, "DKK": 2}

PAY_IN_4 = "pay_in_4"
PAY_IN_4_INTERVAL_DAYS = 14
MONTHLY_INSTALMENTS = {"monthly_3": 3, "monthly_6": 6, "monthly_12": 12, "monthly_24": 24}
OPTION_KEYS = (PAY_IN_4, *MONTHLY_INSTALMENTS)

OPTION_LABELS = {
    PAY_IN_4: _("Pay in 4 (every two weeks, interest-free)"),
    "monthly_3": _("3 monthly instalments"),
    "monthly_6": _("6 monthly instalments"),
    "monthly_12": _("12 monthly instalments"),
    "monthly_24": _("24 monthly instalments"),
}

ZERO = Decimal("0")
HUNDRED = Decimal("100")
RATE_QUANTUM = Decimal("0.01")  # nominal rates are shown with two decimals: 9.90
APR_QUANTUM = Decimal("0.1")  # the directive asks for at least one decimal (Annex I, remark (d))
_PRECISION = 40  # digits for the intermediate arithmetic: far beyond a cent on any plan we offer
_APR_TOLERANCE = Decimal("1e-15")
_APR_MAX_ITERATIONS = 200
_APR_CEILING = Decimal("10000")  # 1,000,000 % a year: beyond it the payments describe no credit


class PricingError(ValueError):
    """Bad input to the pricing functions; the message is translated and fit to show."""


class OptionNotOffered(PricingError):
    """The option exists but is not offered for this amount and currency (or is switched off)."""


@dataclass(frozen=True)
class ScheduledPayment:
    number: int  # 1-based
    due_date: date
    amount: Decimal  # what the shopper pays on that date
    principal: Decimal
    interest: Decimal


@dataclass(frozen=True)
class PaymentOption:
    key: str  # "pay_in_4", "monthly_3", "monthly_6", "monthly_12", "monthly_24"
    label: str  # translatable (gettext_lazy)
    instalments: int
    currency: str
    amount: Decimal  # the purchase amount financed
    schedule: tuple[ScheduledPayment, ...]
    total_payable: Decimal
    total_cost_of_credit: Decimal  # total_payable - amount (no fees when paid on time)
    nominal_rate: Decimal  # annual, percent, two decimals, e.g. Decimal("9.90")
    apr: Decimal  # annual percentage rate of charge per CCD Annex I, percent, one decimal


# --- public API -----------------------------------------------------------------------------------


def payment_options(*, amount: Decimal, currency: str, start: date) -> list[PaymentOption]:
    """Every option offered for this amount and currency, in the order of OPTION_KEYS.

    An option whose amount range (settings.BNPL_AMOUNT_LIMITS) excludes the amount, or whose rate is
    not configured, is left out. Bad input raises PricingError (a ValueError)."""
    quantum = _check_money(amount=amount, currency=currency)
    _check_start(start)
    # str(amount): 120.0 and 120.00 are equal Decimals but each keeps its own exponent in the answer.
    return list(_options_cached(str(amount), currency, start, quantum, _configuration()))


def _configuration() -> str:
    """What, besides the arguments, decides the options: the rates and limits as configured now
    (part of the cache key, so a changed setting never answers from an old computation)."""
    return repr((settings.BNPL_NOMINAL_RATES, settings.BNPL_AMOUNT_LIMITS))


# The options are a pure function of amount, currency, start date and configuration, and every
# checkout of the same basket on the same day asks again: the APR's root finding (a few ms for the
# five options) runs once per distinct question. The values are frozen dataclasses; labels stay
# lazy, so each answer is still translated into the caller's language.
@lru_cache(maxsize=4096)
def _options_cached(
    amount: str, currency: str, start: date, quantum: Decimal, _configuration: str
) -> tuple[PaymentOption, ...]:
    value = Decimal(amount)
    return tuple(
        _build(key=key, amount=value, currency=currency, start=start, quantum=quantum)
        for key in OPTION_KEYS
        if _not_offered_reason(key=key, amount=value, currency=currency) is None
    )


def payment_option(*, key: str, amount: Decimal, currency: str, start: date) -> PaymentOption:
    """One option by key. Unknown key → PricingError; a known option not offered for this amount or
    currency → OptionNotOffered (both ValueError)."""
    if key not in OPTION_KEYS:
        raise PricingError(
            gettext("Unknown payment option “%(key)s”; the options are: %(keys)s.")
            % {"key": key, "keys": ", ".join(OPTION_KEYS)}
        )
    quantum = _check_money(amount=amount, currency=currency)
    _check_start(start)
    reason = _not_offered_reason(key=key, amount=amount, currency=currency)
    if reason is not None:
        raise OptionNotOffered(reason)
    return _build(key=key, amount=amount, currency=currency, start=start, quantum=quantum)


def apr_of(*, amount: Decimal, payments: list[tuple[date, Decimal]], start: date) -> Decimal:
    """The annual percentage rate of charge, in percent with one decimal (ROUND_HALF_UP).

    `amount` is drawn down on `start`; `payments` are what the consumer pays back, with fees if any.
    Solves  amount = Σ payment_l · (1 + X)^(−s_l)  where s_l is the time from `start` to the l-th
    payment in years (see `year_fractions`)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= ZERO:
        raise PricingError(gettext("The amount must be a positive decimal number."))
    _check_start(start)
    if not payments:
        raise PricingError(gettext("An APR needs at least one payment."))
    for due, paid in payments:
        _check_start(due)
        if due < start:
            raise PricingError(gettext("A payment cannot fall before the start date."))
        if not isinstance(paid, Decimal) or not paid.is_finite() or paid < ZERO:
            raise PricingError(gettext("Payments must be decimal numbers of zero or more."))
    times = year_fractions(start=start, dates=[due for due, _paid in payments])
    flows = [(t, paid) for t, (_due, paid) in zip(times, payments, strict=True)]
    rate = _solve_apr(amount=amount, flows=flows)
    percent = (rate * HUNDRED).quantize(APR_QUANTUM, rounding=ROUND_HALF_UP)
    return percent + ZERO if percent.is_zero() else percent  # never "-0.0"


# --- dates and the directive's time convention ------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` months later (or earlier when negative), clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def year_fractions(*, start: date, dates: list[date]) -> list[Fraction]:
    """The time from `start` to each date in years, by the directive's convention (Annex I, remark (c)):
    a year has 12 equal months, 52 weeks, or 365 days (366 in a leap year).

    - When every date is a whole number of months after `start` (the schedule's own months, month
      ends clamped), t = months / 12.
    - Otherwise, when every date is a whole number of weeks after `start`, t = weeks / 52.
    - Otherwise each interval is whole months counted backwards from the date, then the days left
      down to `start`, divided by the days of the year that ends on the last of those days (365 or
      366): t = months / 12 + days / year_days (2014/17/EU Annex I, 2023/2225 Annex III, remark (c)).
    """
    months = [_whole_months(start, day) for day in dates]
    if all(m is not None for m in months):
        return [Fraction(m, 12) for m in months]
    if all((day - start).days % 7 == 0 for day in dates):
        return [Fraction((day - start).days // 7, 52) for day in dates]
    return [_months_and_days(start, day) for day in dates]


def _whole_months(start: date, day: date) -> int | None:
    months = (day.year - start.year) * 12 + day.month - start.month
    return months if months >= 0 and add_months(start, months) == day else None


def _months_and_days(start: date, day: date) -> Fraction:
    months = (day.year - start.year) * 12 + day.month - start.month
    while months > 0 and add_months(day, -months) < start:
        months -= 1
    anchor = add_months(day, -months)
    days = (anchor - start).days
    year_days = (anchor - add_months(anchor, -12)).days
    return Fraction(months, 12) + Fraction(days, year_days)


# --- validation and configuration ------------------------------------------------------------------


def _check_money(*, amount: Decimal, currency: str) -> Decimal:
    """Checks the amount and currency; returns the currency's quantum (Decimal("0.01"))."""
    if not isinstance(currency, str) or currency not in CURRENCY_MINOR_UNITS:
        raise PricingError(
            gettext("Currency “%(currency)s” is not supported; use one of: %(currencies)s.")
            % {"currency": currency, "currencies": ", ".join(sorted(CURRENCY_MINOR_UNITS))}
        )
    if isinstance(amount, float):
        raise PricingError(gettext("Amounts are exact decimals, never floating-point numbers."))
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise PricingError(gettext("The amount must be a decimal number."))
    if amount <= ZERO:
        raise PricingError(gettext("The amount must be greater than zero."))
    quantum = Decimal(1).scaleb(-CURRENCY_MINOR_UNITS[currency])
    if amount != amount.quantize(quantum, rounding=ROUND_HALF_UP):
        raise PricingError(
            gettext("The amount has more decimal places than %(currency)s allows (%(places)d).")
            % {"currency": currency, "places": CURRENCY_MINOR_UNITS[currency]}
        )
    return quantum


def _check_start(day: date) -> None:
    # A datetime is a date too, but its time of day and zone would decide which calendar day a
    # schedule starts on; the caller decides that, not this module.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise PricingError(gettext("Dates must be calendar dates (datetime.date), not timestamps."))


def _not_offered_reason(*, key: str, amount: Decimal, currency: str) -> str | None:
    if key in MONTHLY_INSTALMENTS and nominal_rate_of(key) is None:
        return gettext("This payment option is not offered at the moment.")
    limits = amount_limits_of(key, currency)
    if limits is None:
        return gettext("This payment option is not offered in %(currency)s.") % {"currency": currency}
    minimum, maximum = limits
    if not minimum <= amount <= maximum:
        return gettext("This payment option is offered for amounts from %(minimum)s to %(maximum)s %(currency)s.") % {
            "minimum": minimum,
            "maximum": maximum,
            "currency": currency,
        }
    return None


def nominal_rate_of(key: str) -> Decimal | None:
    """The configured annual nominal rate in percent (two decimals), None when not configured."""
    if key == PAY_IN_4:
        return ZERO.quantize(RATE_QUANTUM)
    raw = settings.BNPL_NOMINAL_RATES.get(key)
    if raw is None:
        return None
    rate = _setting_decimal(raw, "BNPL_NOMINAL_RATES", key)
    if not ZERO <= rate < HUNDRED:
        raise ImproperlyConfigured(f"BNPL_NOMINAL_RATES[{key!r}] must be at least 0 and below 100 (percent a year).")
    return rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def amount_limits_of(key: str, currency: str) -> tuple[Decimal, Decimal] | None:
    """[minimum, maximum] for the option in the currency, None when it is not offered in it."""
    pair = settings.BNPL_AMOUNT_LIMITS.get(key, {}).get(currency)
    if pair is None:
        return None
    name = f"{key}.{currency}"
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise ImproperlyConfigured(f"BNPL_AMOUNT_LIMITS[{name}] must be [minimum, maximum].")
    minimum, maximum = (_setting_decimal(value, "BNPL_AMOUNT_LIMITS", name) for value in pair)
    if not ZERO < minimum <= maximum:
        raise ImproperlyConfigured(f"BNPL_AMOUNT_LIMITS[{name}] needs 0 < minimum <= maximum.")
    return minimum, maximum


def _setting_decimal(raw, setting: str, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))  # str(): a JSON number arrives as a float; its shortest repr is exact enough
    except InvalidOperation:
        raise ImproperlyConfigured(f"{setting}[{name}] is not a number: {raw!r}.") from None
    if not value.is_finite():
        raise ImproperlyConfigured(f"{setting}[{name}] is not a finite number: {raw!r}.")
    return value


# --- schedules ------------------------------------------------------------------------------------


def _build(*, key: str, amount: Decimal, currency: str, start: date, quantum: Decimal) -> PaymentOption:
    if key == PAY_IN_4:
        schedule = _pay_in_4_schedule(amount=amount, start=start, quantum=quantum)
        rate = ZERO.quantize(RATE_QUANTUM)
    else:
        rate = nominal_rate_of(key)
        schedule = _annuity_schedule(
            amount=amount, annual_percent=rate, instalments=MONTHLY_INSTALMENTS[key], start=start, quantum=quantum
        )
    total = sum((line.amount for line in schedule), ZERO)
    return PaymentOption(
        key=key,
        label=OPTION_LABELS[key],
        instalments=len(schedule),
        currency=currency,
        amount=amount,
        schedule=schedule,
        total_payable=total,
        total_cost_of_credit=total - amount,
        nominal_rate=rate,
        apr=apr_of(amount=amount, payments=[(line.due_date, line.amount) for line in schedule], start=start),
    )


def _pay_in_4_schedule(*, amount: Decimal, start: date, quantum: Decimal) -> tuple[ScheduledPayment, ...]:
    share = (amount / 4).quantize(quantum, rounding=ROUND_HALF_UP)
    last = amount - 3 * share  # the rounding remainder, either way, lands on the last payment
    zero = ZERO.quantize(quantum)
    return tuple(
        ScheduledPayment(
            number=number,
            due_date=start + timedelta(days=PAY_IN_4_INTERVAL_DAYS * (number - 1)),
            amount=principal,
            principal=principal,
            interest=zero,
        )
        for number, principal in enumerate((share, share, share, last), start=1)
    )


def annuity_payment(*, amount: Decimal, monthly_rate: Decimal, instalments: int, quantum: Decimal) -> Decimal:
    """The level instalment P·r / (1 − (1 + r)^−n) (P / n when r = 0), rounded to the quantum."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if monthly_rate.is_zero():
            exact = amount / instalments
        else:
            exact = amount * monthly_rate / (1 - (1 + monthly_rate) ** -instalments)
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


def _annuity_schedule(
    *, amount: Decimal, annual_percent: Decimal, instalments: int, start: date, quantum: Decimal
) -> tuple[ScheduledPayment, ...]:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        monthly_rate = annual_percent / HUNDRED / 12
    payment = annuity_payment(amount=amount, monthly_rate=monthly_rate, instalments=instalments, quantum=quantum)
    outstanding = amount
    lines = []
    for number in range(1, instalments + 1):
        interest = (outstanding * monthly_rate).quantize(quantum, rounding=ROUND_HALF_UP)
        # The last instalment repays whatever principal is left: the cents that rounding the level
        # payment added or dropped over the plan, so the principal column sums to the amount.
        principal = outstanding if number == instalments else payment - interest
        outstanding -= principal
        lines.append(
            ScheduledPayment(
                number=number,
                due_date=add_months(start, number),
                amount=principal + interest,
                principal=principal,
                interest=interest,
            )
        )
    return tuple(lines)


# --- the APR equation -----------------------------------------------------------------------------


def _solve_apr(*, amount: Decimal, flows: list[tuple[Fraction, Decimal]]) -> Decimal:
    """X with f(X) = amount − Σ p·(1+X)^−t = 0, by Newton's method kept inside a bisection bracket.

    f rises strictly with X (the drawdown comes first, payments after), from −∞ near X = −1 to
    amount − (payments at t = 0) as X grows, so the root exists and is unique exactly when the
    payments after the start are positive and those on the start date do not repay the amount."""
    paid_at_start = sum((paid for t, paid in flows if t == 0), ZERO)
    later = [(t, paid) for t, paid in flows if t > 0 and not paid.is_zero()]
    if paid_at_start >= amount or not later:
        raise PricingError(gettext("These payments do not describe a credit: nothing is repaid after the start date."))
    base = amount - paid_at_start
    # Every t is a whole number of steps of 1/steps_a_year (1/12, 1/52, or finer for odd dates), so
    # (1+X)^−t = v^n with v = (1+X)^(−1/steps_a_year): one exp and ln per evaluation, not one per payment.
    steps_a_year = lcm(*(t.denominator for t, _paid in later))
    steps = sorted((int(t * steps_a_year), paid) for t, paid in later)
    with localcontext() as ctx:
        ctx.prec = _PRECISION

        def value_and_slope(x: Decimal) -> tuple[Decimal, Decimal]:
            v = (-(1 + x).ln() / steps_a_year).exp()
            value, weighted, power, previous = base, ZERO, Decimal(1), 0
            for n, paid in steps:
                power *= v ** (n - previous)
                previous = n
                discounted = paid * power
                value -= discounted
                weighted += n * discounted
            return value, weighted / (steps_a_year * (1 + x))

        low, high = Decimal("-0.5"), Decimal("1")
        while value_and_slope(low)[0] > 0:
            low = (low - 1) / 2  # halves the distance to −1: −0.75, −0.875, …
        while value_and_slope(high)[0] < 0:
            high *= 2
            if high > _APR_CEILING:
                raise PricingError(gettext("The APR of these payments is too high to state."))
        x = ZERO if low < ZERO < high else (low + high) / 2
        for _step in range(_APR_MAX_ITERATIONS):
            value, slope = value_and_slope(x)
            if value.is_zero():
                return x
            if value < 0:
                low = x
            else:
                high = x
            following = x - value / slope if slope > 0 else (low + high) / 2
            if not low < following < high:
                following = (low + high) / 2
            if abs(following - x) < _APR_TOLERANCE or high - low < _APR_TOLERANCE:
                return following
            x = following
    return x
