import subprocess
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from intermediaries.models import Instrument, Price
from intermediaries.valuation import revalue_and_roll_up
from reports import rendering, services
from reports.models import Report

SEP = date(2026, 9, 1)
OCT_END = date(2026, 10, 31)
Q3_START = date(2026, 7, 1)
Q3_END = date(2026, 9, 30)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def rendered(media):
    """Request a report and render it at once, as the worker would."""

    def _rendered(actor, kind=Report.Kind.STATEMENT, start=SEP, end=OCT_END, **subject) -> Report:
        report = services.report_request(actor=actor, kind=kind, period_start=start, period_end=end, **subject)
        return rendering.report_render(report.pk) or Report.objects.get(pk=report.pk)

    return _rendered


from tests.commissions.conftest import plans  # noqa: E402, F401
from tests.fakes.fixtures import *  # noqa: E402, F403 (the private Redis and the loopback fakes, for worker tests)
from tests.intermediaries.conftest import book, make_client, make_portfolio, market, workspace  # noqa: E402, F401


@pytest.fixture
def fund_book(cast, workspace):  # noqa: F811 (the fixture imported above)
    """A book small enough to work out by hand: client2 is Emil Ernst (C1003, broker1's client), who
    holds 100 units of a fund with 1.00 % ongoing charges at a constant 100 EUR all of Q3 2026.

    1 July:  deposit 10,010; buy 100 units for 10,000; a fee of 10 (with the trade: transaction cost)
    14 Aug:  deposit 25; a fee of 25 (no trade that day: service fee)
    1 Sep:   deposit 5; a tax of 5
    Every deposit pays what is charged that day, so the portfolio is worth 10,000 on every day.
    """
    fund = Instrument.objects.create(
        isin="LU0000000016", name="Demo Balanced Fund", asset_class="fund", currency="EUR", ongoing_charges=Decimal("1")
    )
    day, prices = Q3_START, []
    while day <= Q3_END:
        if day.weekday() < 5:
            prices.append(Price(instrument=fund, date=day, close=Decimal("100")))
        day += timedelta(days=1)
    Price.objects.bulk_create(prices)
    emil = make_client("C1003", "Emil", "Ernst", cast.broker1, user=cast.client2)
    portfolio = make_portfolio(emil, "P5")
    portfolio.opened_on = Q3_START
    portfolio.save()
    book("E-1", portfolio, "deposit", Q3_START, "10010")
    book("E-2", portfolio, "buy", Q3_START, "10000", fund, "100", "100")
    book("E-3", portfolio, "fee", Q3_START, "10")
    book("E-4", portfolio, "deposit", date(2026, 8, 14), "25")
    book("E-5", portfolio, "fee", date(2026, 8, 14), "25")
    book("E-6", portfolio, "deposit", date(2026, 9, 1), "5")
    book("E-7", portfolio, "tax", date(2026, 9, 1), "5")
    revalue_and_roll_up(portfolio_ids=[portfolio.pk])
    emil.refresh_from_db()
    return SimpleNamespace(client=emil, portfolio=portfolio, fund=fund)
