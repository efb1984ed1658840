"""Daily fee runs overlapping (PostgreSQL): every fee is charged once and the share cap holds."""

from datetime import timedelta
from decimal import Decimal

import pytest

from bnpl import fees
from bnpl.models import FeeCharge
from tests.parallel import in_parallel

from .factories import ShopperFactory, merchant_for
from .fee_helpers import priced_plan, schedule

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_eight_parallel_daily_runs_charge_each_fee_once_within_the_share_cap(cast):
    shop = merchant_for(cast.merchant.organisation, actor=cast.admin)
    shopper = ShopperFactory(user=cast.client2)
    schedule(late_fee_amount=Decimal("5.00"), cap_share_of_purchase=Decimal("12.00"))
    plan = priced_plan(merchant=shop, shopper=shopper, key="pay_in_4", amount=Decimal("100.00"))
    today = plan.instalments.order_by("-number").first().due_date + timedelta(days=30)

    outcomes = in_parallel(8, lambda n: fees.late_fees_charge(today=today))

    assert not [o for o in outcomes if isinstance(o, Exception)]
    charges = list(FeeCharge.objects.order_by("instalment__number"))
    # 12 % of 100.00: 5.00 + 5.00 + 2.00 (cut), the fourth gets nothing — however the runs interleave.
    assert [c.amount for c in charges] == [Decimal("5.00"), Decimal("5.00"), Decimal("2.00")]
    assert sum(o["charged"] for o in outcomes) == 3
