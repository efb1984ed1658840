"""Bank statements in: paid, partly paid, returned, unmatched → reconciliation; dedupe; bad files change nothing."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from bnpl.collection_runs import collection_run_prepare
from bnpl.models import BankStatement, FeeStatus, FeeStatusRule, Instalment, Plan, StatementLine
from bnpl.statement_files import Transfer
from bnpl.statements import RECONCILIATION_KIND, bank_statement_import, statement_line_assign, statement_line_dismiss
from portal.audit.models import AuditEvent
from portal.inbox.models import WorkItem
from portal.notifications.models import Notification

from .collection_helpers import IBANS, mandate_for, plan_due, statement_paying

DAY = date(2026, 6, 15)
FILES = Path(__file__).parent / "files"


@pytest.fixture
def run(cast, shops, settings):
    mandate_for(shops.client2, IBANS["client2"])
    mandate_for(shops.client3, IBANS["client3"])
    plan_due(merchant=shops.delta, shopper=shops.client2, first_due=DAY)
    plan_due(merchant=shops.delta, shopper=shops.client3, first_due=DAY, amount=Decimal("150.00"))
    return collection_run_prepare(actor=cast.backoffice, collection_date=DAY)


def _items(run):
    return {
        item.instalment.plan.order.shopper.user.email: item
        for item in run.items.select_related("instalment__plan__order__shopper__user")
    }


def test_a_statement_marks_paid_partly_paid_and_returned(cast, run):
    items = _items(run)
    carl, katya = items["client2@example.com"], items["client3@example.com"]
    data = statement_paying(
        run,
        statement_id="STMT-1",
        booking_date=DAY,
        amounts={carl.end_to_end_id: Decimal("60.00")},
        returns=[(katya.end_to_end_id, katya.amount, "AM04")],
    )
    result = bank_statement_import(actor=cast.backoffice, data=data, file_name="stmt.xml")
    assert not result.duplicate
    assert result.statement.counts == {"partly_paid": 1, "returned": 1}
    assert "1 partly paid, 1 returned" in result.message
    carl_instalment = Instalment.objects.get(pk=carl.instalment_id)
    assert (carl_instalment.state, carl_instalment.paid_amount) == ("partly_paid", Decimal("60.00"))
    katya_instalment = Instalment.objects.get(pk=katya.instalment_id)
    assert (katya_instalment.state, katya_instalment.return_reason, katya_instalment.paid_amount) == (
        "overdue",
        "AM04",
        0,
    )  # its day has passed
    carl.refresh_from_db()
    katya.refresh_from_db()
    assert (carl.state, katya.state, katya.return_reason) == ("partly_paid", "returned", "AM04")
    told = Notification.objects.get(user__email="client3@example.com", event="bnpl.debit_returned")
    assert "was returned" in told.title and "AM04" in told.body
    assert AuditEvent.objects.filter(action="bnpl.bank_statement_imported").count() == 1


def test_the_rest_of_a_partly_paid_debit_and_a_later_return_are_applied(cast, run):
    carl = _items(run)["client2@example.com"]
    bank_statement_import(
        actor=cast.backoffice,
        data=statement_paying(
            run, statement_id="S-1", booking_date=DAY, amounts={carl.end_to_end_id: Decimal("60.00")}
        ),
    )
    rest = carl.amount - Decimal("60.00")
    bank_statement_import(
        actor=cast.backoffice,
        data=statement_paying(run, statement_id="S-2", booking_date=DAY, amounts={carl.end_to_end_id: rest}),
    )
    instalment = Instalment.objects.get(pk=carl.instalment_id)
    assert instalment.state == "paid" and instalment.paid_amount == carl.amount
    # The debtor asks their bank for the money back (MD06): the instalment is open again, overdue once past due.
    data = statement_paying(
        run, statement_id="S-3", booking_date=date(2026, 6, 20), returns=[(carl.end_to_end_id, carl.amount, "MD06")]
    )
    bank_statement_import(actor=cast.backoffice, data=data)
    instalment.refresh_from_db()
    assert instalment.paid_amount == 0 and instalment.return_reason == "MD06"
    assert instalment.state in ("due", "overdue")


def test_the_same_statement_twice_changes_nothing_and_says_so(cast, run):
    data = statement_paying(run, statement_id="STMT-TWICE", booking_date=DAY)
    bank_statement_import(actor=cast.backoffice, data=data)
    before = list(Instalment.objects.order_by("pk").values_list("state", "paid_amount"))
    again = bank_statement_import(actor=cast.backoffice, data=data)
    assert again.duplicate and "was imported before" in again.message and "nothing was changed" in again.message
    assert list(Instalment.objects.order_by("pk").values_list("state", "paid_amount")) == before
    assert BankStatement.objects.count() == 1 and StatementLine.objects.count() == 2


@pytest.mark.parametrize(
    "name", ["not_xml.txt", "camt052_report.xml", "entity_expansion.xml", "camt053_bad_amount.xml"]
)
def test_a_malformed_file_is_refused_whole_and_changes_nothing(cast, run, name):
    before = list(Instalment.objects.order_by("pk").values_list("state", "paid_amount"))
    with pytest.raises(ValidationError) as error:
        bank_statement_import(actor=cast.backoffice, data=(FILES / name).read_bytes())
    assert error.value.code == "malformed"
    assert error.value.messages[0].startswith("The bank statement cannot be read: ")
    assert not BankStatement.objects.exists() and not StatementLine.objects.exists()
    assert list(Instalment.objects.order_by("pk").values_list("state", "paid_amount")) == before


def test_a_statement_of_another_account_is_refused(cast, run, settings):
    data = statement_paying(run, statement_id="STMT-OTHER", booking_date=DAY)
    settings.BNPL_CREDITOR_IBAN = "DE75512108001245126199"
    with pytest.raises(ValidationError) as error:
        bank_statement_import(actor=cast.backoffice, data=data)
    assert "collections are paid into DE75512108001245126199" in error.value.messages[0]
    assert not BankStatement.objects.exists()


def test_unmatched_lines_wait_in_the_work_inbox_until_assigned(cast, shops, run):
    carl = _items(run)["client2@example.com"]
    instalment = Instalment.objects.get(pk=carl.instalment_id)
    data = statement_paying(
        run,
        statement_id="STMT-U",
        booking_date=DAY,
        amounts={carl.end_to_end_id: Decimal("0.01")},
        transfers=[
            Transfer(
                amount=carl.amount - Decimal("0.01"),
                remittance=f"{instalment.plan.order.reference} rest",
                debtor_name="Carl Weber",
            )
        ],
    )
    bank_statement_import(actor=cast.backoffice, data=data)
    line = StatementLine.objects.get(outcome="unmatched")
    assert line.reason == "no_end_to_end_id"
    item = WorkItem.objects.get(kind=RECONCILIATION_KIND, object_id=line.pk)
    assert item.closed_at is None and item.url == f"/bnpl/collections/lines/{line.pk}/"
    from bnpl.statements import line_candidates

    assert line_candidates(line)[0] == instalment  # the order named in the remittance comes first
    statement_line_assign(actor=cast.backoffice, line_id=line.pk, instalment_id=instalment.pk, note="rest by transfer")
    instalment.refresh_from_db()
    line.refresh_from_db()
    item.refresh_from_db()
    assert instalment.state == "paid" and line.outcome == "assigned" and item.closed_at is not None
    assert line.resolved_by == cast.backoffice
    with pytest.raises(ValidationError):  # resolved once
        statement_line_dismiss(actor=cast.backoffice, line_id=line.pk, note="again")


def test_assigning_more_than_is_open_or_by_a_merchant_is_refused(cast, shops, run):
    carl = _items(run)["client2@example.com"]
    data = statement_paying(
        run,
        statement_id="S-X",
        booking_date=DAY,
        transfers=[Transfer(amount=Decimal("999.00"), remittance="?", debtor_name="X")],
    )
    bank_statement_import(actor=cast.backoffice, data=data)
    line = StatementLine.objects.get(outcome="unmatched")
    paid = carl.instalment_id
    second = Instalment.objects.get(plan__instalments__pk=paid, number=2)
    with pytest.raises(ValidationError) as error:
        statement_line_assign(actor=cast.backoffice, line_id=line.pk, instalment_id=paid)
    assert "still open" in str(error.value)
    with pytest.raises(ValidationError) as error:
        statement_line_assign(actor=cast.backoffice, line_id=line.pk, instalment_id=second.pk)
    assert "only 100.00 is open" in str(error.value)
    with pytest.raises(PermissionDenied):
        statement_line_assign(actor=cast.merchant, line_id=line.pk, instalment_id=second.pk)
    with pytest.raises(ValidationError) as error:
        statement_line_dismiss(actor=cast.backoffice, line_id=line.pk, note="  ")
    assert "Say why" in str(error.value)
    line.refresh_from_db()
    assert line.outcome == "unmatched"
    statement_line_dismiss(actor=cast.backoffice, line_id=line.pk, note="Wrong account, sent back")
    line.refresh_from_db()
    assert line.outcome == "dismissed" and WorkItem.objects.get(object_id=line.pk, kind=RECONCILIATION_KIND).closed_at


def test_a_paid_plan_is_completed_and_the_fee_status_is_re_evaluated(cast, shops, run):
    # The collection day lies in the past, so the plan's later instalments are late by today.
    FeeStatusRule.objects.create(
        name="Late",
        condition=FeeStatusRule.Condition.LATE_PAYMENTS,
        days=365,
        threshold=1,
        currency="EUR",
        status="watch",
        position=1,
    )
    carl = _items(run)["client2@example.com"]
    assert not FeeStatus.objects.exists()
    bank_statement_import(actor=cast.backoffice, data=statement_paying(run, statement_id="S-L", booking_date=DAY))
    assert FeeStatus.objects.get(shopper=shops.client2).status == "watch"  # re-evaluated on the payment event
    plan = Instalment.objects.get(pk=carl.instalment_id).plan
    assert plan.state == Plan.State.ACTIVE  # two more instalments to go


def test_the_command_imports_and_refuses_a_bad_file(cast, run, tmp_path):
    path = tmp_path / "stmt.xml"
    path.write_bytes(statement_paying(run, statement_id="S-CMD", booking_date=DAY))
    from io import StringIO

    out = StringIO()
    call_command("import_bank_statement", str(path), stdout=out)
    assert "Statement S-CMD imported: 2 paid" in out.getvalue()
    out = StringIO()
    call_command("import_bank_statement", str(path), stdout=out)
    assert "was imported before" in out.getvalue()
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("import_bank_statement", str(FILES / "not_xml.txt"))
    assert BankStatement.objects.count() == 1
