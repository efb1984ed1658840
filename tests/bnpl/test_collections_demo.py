"""The collections demo: a prepared run, a statement that answers it, dunning and a paused dispute; a re-run adds nothing."""

import io
from pathlib import Path

import pytest

from bnpl.collections_demo import collections_demo_step, demo_statement
from bnpl.demo import decisions_demo_step, demo_step
from bnpl.dispute_state import order_disputed
from bnpl.fees_demo import fees_demo_step
from bnpl.models import CollectionRun, DunningNotice, FeeCharge, Instalment, Order, StatementLine
from bnpl.statements import bank_statement_import
from portal.shell.demo import cast_ensure

pytestmark = pytest.mark.django_db


def test_the_demo_prepares_a_run_and_a_statement_that_answers_it(settings, tmp_path):
    settings.SHIPPO_API_KEY = ""
    settings.MEDIA_ROOT = tmp_path
    cast_ensure()
    for step in (demo_step, decisions_demo_step, fees_demo_step, collections_demo_step):
        step(scale="small", stdout=io.StringIO())
    out = io.StringIO()
    collections_demo_step(scale="small", stdout=out)  # a second time: nothing new
    assert CollectionRun.objects.count() == 1 and Order.objects.filter(reference__startswith="DELTA-40").count() == 6

    run = CollectionRun.objects.get()
    collected = set(run.items.values_list("instalment__plan__order__reference", flat=True))
    assert collected == {"DELTA-4001", "DELTA-4002", "DELTA-4003"}
    assert {row["order"]: row["reason"] for row in run.skipped} == {
        "DELTA-4005": "Paused: the order has an open dispute",
        "DELTA-4006": "No active SEPA mandate",
    }
    assert order_disputed(Order.objects.get(reference="DELTA-4005").pk)
    overdue = Instalment.objects.get(plan__order__reference="DELTA-4004", number=1)
    assert overdue.state == "overdue"
    assert DunningNotice.objects.filter(instalment=overdue, level=2).exists()
    assert set(FeeCharge.objects.filter(instalment=overdue).values_list("kind", flat=True)) == {"late", "dunning"}

    name, data = demo_statement()
    written = Path(out.getvalue().rsplit("bank statement to import: ", 1)[1].strip())
    assert written.name == name and written.read_bytes().startswith(b"<?xml")
    result = bank_statement_import(actor=None, data=data, file_name=name)
    assert result.statement.counts == {"paid": 2, "returned": 1, "unmatched": 1}
    line = StatementLine.objects.get(outcome="unmatched")
    assert "DELTA-4004" in line.remittance and line.amount == overdue.amount
