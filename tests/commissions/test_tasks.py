from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from commissions import tasks
from commissions.models import Accrual, CommissionMonth

from .conftest import SEPTEMBER

pytestmark = pytest.mark.django_db


def test_the_accrual_task_fans_out_per_broker_chunk_and_is_idempotent(cast, plans, workspace):
    # The eager result itself: .get() is refused once a worker has run in this test process.
    assert tasks.commissions_accrue.delay("2026-09-15").result == 1
    first = sorted(Accrual.objects.values_list("pk", "amount"))
    assert first
    assert tasks.commissions_accrue.delay("2026-09-01").successful()
    assert sorted(Accrual.objects.values_list("pk", "amount")) == first
    assert CommissionMonth.objects.get(period=SEPTEMBER).last_accrued_at is not None


def test_the_beat_run_covers_this_month_and_last(cast, plans, workspace):
    assert tasks.commissions_accrue.delay().successful()
    assert CommissionMonth.objects.count() == 2


def test_the_command_accrues_a_month_and_refuses_a_bad_one(cast, plans, workspace):
    out = StringIO()
    call_command("accrue_commissions", "--month", "2026-09", stdout=out)
    assert out.getvalue().startswith("2026-09: ") and Accrual.objects.filter(period=SEPTEMBER).exists()
    with pytest.raises(CommandError):
        call_command("accrue_commissions", "--month", "September")
