"""Plans on top of the broker workspace's small valued book (September–October 2026).

House plan: upfront 1 % on equities and 0.5 % on ETFs, trailing 0.365 % a year (so a day is
value × 0.00001), 10 EUR per deposit. Alpha Invest's plan gives manager@ a 10 % override.
"""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission

from commissions.models import CommissionPlan, CommissionRule, Kind
from commissions.roles import backoffice_permissions_grant

SEPTEMBER = date(2026, 9, 1)
OCTOBER = date(2026, 10, 1)
SINCE = date(2026, 1, 1)


def rule(plan, kind, *, rate=None, amount=None, asset_class="", instrument=None, event="", valid_from=SINCE):
    return CommissionRule.objects.create(
        plan=plan,
        kind=kind,
        rate=Decimal(rate) if rate is not None else None,
        amount=Decimal(amount) if amount is not None else None,
        asset_class=asset_class,
        instrument=instrument,
        event=event,
        valid_from=valid_from,
    )


@pytest.fixture
def plans(cast, request):
    request.getfixturevalue("workspace")  # the book the plans apply to
    house = CommissionPlan.objects.create(name="House")
    firm = CommissionPlan.objects.create(name="Alpha", firm=cast.alpha, override_manager=cast.manager)
    rules = SimpleNamespace(
        equity=rule(house, Kind.UPFRONT, rate="0.01", asset_class="equity"),
        etf=rule(house, Kind.UPFRONT, rate="0.005", asset_class="etf"),
        trailing=rule(house, Kind.TRAILING, rate="0.00365"),
        deposit=rule(house, Kind.FIXED, amount="10.00", event="deposit"),
        override=rule(firm, Kind.OVERRIDE, rate="0.10"),
    )
    backoffice_permissions_grant()
    return SimpleNamespace(house=house, firm=firm, rules=rules)


@pytest.fixture
def firm_view_permission(cast):
    """Give the firm-manager role the permission to see the firm's brokers' commissions."""
    from django.contrib.auth.models import Group

    from portal.accounts.roles import Role

    group = Group.objects.get(name=Role.FIRM_MANAGER)
    group.permissions.add(Permission.objects.get(codename="view_firm_commissions"))
    cast.manager = type(cast.manager).objects.get(pk=cast.manager.pk)  # no cached permissions
    return group


from tests.intermediaries.conftest import market, workspace  # noqa: E402, F401
