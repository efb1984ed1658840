"""Collections under parallel calls (PostgreSQL): one run per day, one import per statement."""

from datetime import date

import pytest

from bnpl.collection_runs import collection_run_prepare
from bnpl.models import BankStatement, CollectionRun, Instalment, StatementLine
from bnpl.statements import bank_statement_import
from tests.parallel import in_parallel

from .collection_helpers import IBANS, mandate_for, plan_due, statement_paying
from .factories import ShopperFactory, merchant_for

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

DAY = date(2026, 6, 15)


@pytest.fixture
def due(cast):
    shop = merchant_for(cast.merchant.organisation, actor=cast.admin)
    shopper = ShopperFactory(user=cast.client2)
    mandate_for(shopper, IBANS["client2"])
    return plan_due(merchant=shop, shopper=shopper, first_due=DAY)


def test_parallel_preparations_of_a_day_give_one_run(cast, due):
    outcomes = in_parallel(6, lambda n: collection_run_prepare(actor=None, collection_date=DAY).pk)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert len(set(outcomes)) == 1 and CollectionRun.objects.count() == 1
    assert CollectionRun.objects.get().items.count() == 1


def test_parallel_imports_of_one_statement_apply_it_once(cast, due):
    run = collection_run_prepare(actor=None, collection_date=DAY)
    data = statement_paying(run, statement_id="PAR-1", booking_date=DAY)
    outcomes = in_parallel(6, lambda n: bank_statement_import(actor=None, data=data).duplicate)
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert sorted(outcomes) == [False, True, True, True, True, True]
    assert BankStatement.objects.count() == 1 and StatementLine.objects.count() == 1
    first = Instalment.objects.get(plan=due, number=1)
    assert first.state == "paid" and first.paid_amount == first.amount
