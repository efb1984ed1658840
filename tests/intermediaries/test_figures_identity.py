"""MWR = TWR without flows, through the database: stored valuations, the client's series, the selectors.

A household with two portfolios (EUR and USD) over three years and eight months: one deposit at
inception and no other deposit or withdrawal -- but dividends, fees, a fee refund, a reversal, a
2-for-1 split and a transfer of ETF units from one portfolio to the other. None of these is a
flow of the client, so for every period the page and the API show (1M, MTD, YTD, 1Y, 3Y, MAX,
calendar years, custom ranges) the client's money-weighted return equals the time-weighted one;
and after an incremental revaluation the figures are those of a full replay.
"""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from clients.models import Client
from intermediaries.models import FxRate, Holding, Instrument, Portfolio, Price, Transaction, Valuation
from intermediaries.selectors import performance_of
from intermediaries.valuation import revalue_and_roll_up

pytestmark = pytest.mark.django_db

D = Decimal
TOLERANCE = D("1e-8")
INCEPTION = date(2021, 3, 15)  # a Monday
UNTIL = date(2024, 11, 20)
SPLIT_DAY = date(2023, 6, 1)
TRANSFER_DAY = date(2022, 8, 15)


def weekdays(first: date, last: date) -> list[date]:
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return [d for d in days if d.weekday() < 5]


def close_to(a, b):
    return a is not None and b is not None and abs(a - b) < TOLERANCE


@pytest.fixture
def household(cast, settings):
    settings.PORTAL_FIGURES_CACHE = False
    client = Client.objects.create(number="C9001", first_name="Hanna", last_name="Haus", advisor=cast.broker1)
    depot = Portfolio.objects.create(number="H1", client=client, name="Depot", currency="EUR", opened_on=INCEPTION)
    usd = Portfolio.objects.create(number="H2", client=client, name="USD", currency="USD", opened_on=INCEPTION)
    share = Instrument.objects.create(isin="DE0007164600", name="SAP SE", asset_class="equity", currency="EUR")
    etf = Instrument.objects.create(isin="IE00B4L5Y983", name="MSCI World", asset_class="etf", currency="USD")
    days = weekdays(INCEPTION, UNTIL)
    Price.objects.bulk_create(
        [
            Price(instrument=share, date=d, close=(D(100) + D(n % 37) / 4 + D(n) / 40) / (2 if d >= SPLIT_DAY else 1))
            for n, d in enumerate(days)
        ]
        + [Price(instrument=etf, date=d, close=D(50) + D(n % 23) / 5 + D(n) / 60) for n, d in enumerate(days)]
    )
    FxRate.objects.bulk_create(
        [FxRate(currency="USD", date=d, rate=D("1.08") + D(n % 29) / 500) for n, d in enumerate(days)]
    )
    serial = iter(range(1, 100))

    def book(portfolio, kind, day, amount="0", instrument=None, quantity="0", price="0", currency="EUR", **extra):
        return Transaction.objects.create(
            external_id=f"H-{next(serial)}",
            portfolio=portfolio,
            type=kind,
            trade_date=day,
            instrument=instrument,
            quantity=D(quantity),
            price=D(price),
            amount=D(amount),
            currency=currency,
            **extra,
        )

    book(depot, "deposit", INCEPTION, "40000")
    book(depot, "buy", INCEPTION, "20000", share, "200", "100")
    book(depot, "buy", INCEPTION, "5000", etf, "100", "54", currency="USD")
    book(depot, "dividend", date(2021, 5, 20), "420", share)
    book(depot, "fee", date(2021, 12, 30), "45.50")
    book(depot, "fee_refund", date(2022, 1, 12), "20")
    fee = book(depot, "fee", date(2022, 3, 1), "99")
    book(depot, "reversal", date(2022, 3, 3), "99", reference=fee)
    sent = book(depot, "transfer_out", TRANSFER_DAY, "0", etf, "40", counterpart_portfolio=usd)
    book(usd, "transfer_in", TRANSFER_DAY, "0", etf, "40", currency="USD", counterpart_portfolio=depot, reference=sent)
    book(usd, "dividend", date(2023, 3, 15), "31.20", etf, currency="USD")
    book(depot, "split", SPLIT_DAY, instrument=share, ratio=D(2))
    book(usd, "fee", date(2024, 2, 29), "12", currency="USD")
    return SimpleNamespace(client=client, depot=depot, usd=usd, etf=etf, ids=[depot.pk, usd.pk])


def ranges():
    yield from [(None, None)]  # the whole history
    for year in (2021, 2022, 2023):
        yield date(year, 1, 1), date(year, 12, 31)
    yield date(2022, 5, 7), date(2023, 8, 13)  # from a Saturday to a Sunday, across the split
    yield TRANSFER_DAY - timedelta(days=3), TRANSFER_DAY + timedelta(days=2)  # across the transfer
    yield date(2024, 11, 1), date(2024, 11, 20)


def assert_identity(figures: dict) -> None:
    assert close_to(figures["mwr"], figures["twr"]), figures
    if figures["twr_annualised"] is None:
        assert figures["mwr_annualised"] is None
    else:
        assert close_to(figures["mwr_annualised"], figures["twr_annualised"]), figures


def all_figures(client) -> list[dict]:
    summaries = [performance_of(client=client, start=start, end=end) for start, end in ranges()]
    keys = ("start", "end", "twr", "mwr", "twr_annualised", "mwr_annualised")
    return [{k: s[k] for k in keys} for s in summaries] + summaries[0]["periods"]


def test_every_period_of_a_client_without_flows_has_mwr_equal_to_twr(household):
    revalue_and_roll_up(portfolio_ids=household.ids, until=UNTIL)

    figures = all_figures(household.client)
    for f in figures:
        assert_identity(f)
    periods = {p["code"]: p for p in figures[-6:]}
    assert list(periods) == ["1M", "MTD", "YTD", "1Y", "3Y", "MAX"]
    # GIPS: under a year, no annualised figure; from a year on, both; exactly a year: the same.
    assert all(periods[code]["twr_annualised"] is None for code in ("1M", "MTD", "YTD"))
    assert close_to(periods["1Y"]["twr_annualised"], periods["1Y"]["twr"])
    assert periods["3Y"]["mwr_annualised"] is not None and periods["MAX"]["mwr_annualised"] is not None
    calendar_2022 = next(f for f in figures if f["start"] == date(2022, 1, 1))
    assert close_to(calendar_2022["mwr_annualised"], calendar_2022["twr"])


def test_the_transfer_is_a_flow_of_each_portfolio_and_carries_its_cost(household):
    revalue_and_roll_up(portfolio_ids=household.ids, until=UNTIL)

    out = Valuation.objects.get(portfolio=household.depot, date=TRANSFER_DAY)
    into = Valuation.objects.get(portfolio=household.usd, date=TRANSFER_DAY)
    assert out.outflow_eur == out.internal_outflow_eur > 0
    assert into.inflow_eur == into.internal_inflow_eur > 0
    # The ETF's cost basis moves along: 40 of 100 units bought for 5000 USD = 2000 USD, in EUR at the
    # buy day's rate, and back in USD at the transfer day's rate in the receiving portfolio.
    sent = Transaction.objects.get(type="transfer_out")
    buy_rate = FxRate.objects.get(currency="USD", date=INCEPTION).rate
    transfer_rate = FxRate.objects.get(currency="USD", date=TRANSFER_DAY).rate
    assert sent.transfer_cost == (D(2000) / buy_rate).quantize(D("0.01"))
    held = Holding.objects.get(portfolio=household.usd, instrument=household.etf, valid_to__isnull=True)
    assert held.cost == (sent.transfer_cost * transfer_rate).quantize(D("0.01"))


def test_a_receiver_valued_before_its_sender_is_valued_again_with_the_carried_cost(household):
    revalue_and_roll_up(portfolio_ids=household.ids, until=UNTIL)
    in_order = list(Holding.objects.filter(portfolio=household.usd).values_list("valid_from", "quantity", "cost"))
    Transaction.objects.filter(type="transfer_out").update(transfer_cost=None)

    revalue_and_roll_up(portfolio_ids=list(reversed(household.ids)), until=UNTIL)

    assert (
        list(Holding.objects.filter(portfolio=household.usd).values_list("valid_from", "quantity", "cost")) == in_order
    )


def test_after_an_incremental_revaluation_the_figures_are_those_of_a_full_replay(household):
    earlier = date(2024, 6, 28)
    revalue_and_roll_up(portfolio_ids=household.ids, until=earlier)
    revalue_and_roll_up(revalue_from=[(pk, earlier + timedelta(days=1)) for pk in household.ids], until=UNTIL)
    incremental = all_figures(household.client)
    for f in incremental:
        assert_identity(f)

    revalue_and_roll_up(portfolio_ids=household.ids, until=UNTIL)
    assert all_figures(household.client) == incremental
