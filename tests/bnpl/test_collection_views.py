"""The collections pages: who sees them, downloads, uploads (good, malformed, too large), resolving a line, disputes."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from bnpl.collection_runs import collection_run_prepare
from bnpl.models import BankStatement, CollectionRun, Instalment, Order, StatementLine, TrackingState
from bnpl.order_tracking import order_tracking_status_set
from bnpl.statement_files import Transfer

from .collection_helpers import IBANS, mandate_for, plan_due, statement_paying

DAY = date(2026, 6, 15)


@pytest.fixture
def run(cast, shops):
    mandate_for(shops.client2, IBANS["client2"])
    plan_due(merchant=shops.delta, shopper=shops.client2, first_due=DAY)
    return collection_run_prepare(actor=cast.backoffice, collection_date=DAY)


def _upload(client, data: bytes, name="stmt.xml"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("bnpl:statement-upload"), {"statement": SimpleUploadedFile(name, data, "application/xml")}
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("backoffice", 200), ("admin", 200), ("merchant", 403), ("client2", 403), ("outsider", 403), ("broker1", 403)],
)
def test_who_sees_the_collections_pages(cast, run, login_as, who, status):
    client = login_as(getattr(cast, who))
    assert client.get(reverse("bnpl:collections")).status_code == status
    # A run is an object: for whoever may not read collections it does not exist.
    for url in (reverse("bnpl:collection-run", args=[run.pk]), reverse("bnpl:collection-run-file", args=[run.pk])):
        assert client.get(url).status_code == (200 if status == 200 else 404), url


def test_a_merchant_cannot_upload_or_prepare(cast, run, login_as):
    client = login_as(cast.merchant)
    assert _upload(client, statement_paying(run, statement_id="S", booking_date=DAY)).status_code == 403
    assert client.post(reverse("bnpl:collection-run-prepare"), {"collection_date": "2026-06-16"}).status_code == 403
    assert not BankStatement.objects.exists() and CollectionRun.objects.count() == 1


def test_the_pain008_file_is_an_attachment(cast, run, login_as):
    response = login_as(cast.backoffice).get(reverse("bnpl:collection-run-file", args=[run.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="{run.file_name}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert bytes(response.content) == bytes(run.pain008)


def test_the_page_shows_runs_with_bounded_queries(cast, shops, run, login_as, django_assert_max_num_queries):
    client = login_as(cast.backoffice)
    with django_assert_max_num_queries(25):
        small = client.get(reverse("bnpl:collections"))
    for offset in range(1, 15):
        collection_run_prepare(actor=cast.backoffice, collection_date=date(2026, 7, offset))
    with django_assert_max_num_queries(25):
        large = client.get(reverse("bnpl:collections"))
    assert small.status_code == large.status_code == 200
    assert run.message_id in large.content.decode()


def test_uploading_a_statement_marks_instalments_and_a_repeat_says_so(cast, run, login_as):
    client = login_as(cast.backoffice)
    data = statement_paying(
        run, statement_id="S-UP", booking_date=DAY, transfers=[Transfer(Decimal("5.00"), "?", "Someone")]
    )
    response = _upload(client, data)
    statement = BankStatement.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("bnpl:statement", args=[statement.pk])
    page = client.get(response["Location"]).content.decode()
    assert "1 paid" in page and "1 unmatched" in page
    assert Instalment.objects.get(pk=run.items.get().instalment_id).state == "paid"
    again = client.get(_upload(client, data)["Location"]).content.decode()
    assert "was imported before" in again


def test_a_malformed_upload_is_refused_with_the_reason(cast, run, login_as):
    response = _upload(login_as(cast.backoffice), b"<Document>not a statement")
    assert response.status_code == 400
    assert "The bank statement cannot be read" in response.content.decode()
    assert not BankStatement.objects.exists()


def test_a_too_large_upload_is_413(cast, run, login_as, settings):
    settings.BNPL_STATEMENT_MAX_BYTES = 100
    response = _upload(login_as(cast.backoffice), statement_paying(run, statement_id="S-BIG", booking_date=DAY))
    assert response.status_code == 413
    assert not BankStatement.objects.exists()


def test_back_office_assigns_an_unmatched_line_on_its_page(cast, run, login_as):
    client = login_as(cast.backoffice)
    item = run.items.select_related("instalment__plan__order").get()
    second = Instalment.objects.get(plan=item.instalment.plan, number=2)
    data = statement_paying(
        run,
        statement_id="S-L",
        booking_date=DAY,
        transfers=[Transfer(second.amount, f"{item.instalment.plan.order.reference} 2", "Carl")],
    )
    _upload(client, data)
    line = StatementLine.objects.get(outcome="unmatched")
    page = client.get(reverse("bnpl:statement-line", args=[line.pk]))
    assert page.status_code == 200 and f"{item.instalment.plan.order.reference} · instalment 2" in page.content.decode()
    bad = client.post(reverse("bnpl:statement-line", args=[line.pk]), {"action": "dismiss", "note": ""})
    assert bad.status_code == 400
    done = client.post(reverse("bnpl:statement-line", args=[line.pk]), {"action": "assign", "instalment": second.pk})
    assert done.status_code == 302
    second.refresh_from_db()
    assert second.state == "paid"
    assert login_as(cast.merchant).get(reverse("bnpl:statement-line", args=[line.pk])).status_code == 404


def test_the_dispute_page_decides(cast, shops, run, login_as):
    order = Order.objects.select_related("shopper__user", "merchant").get(pk=run.items.get().instalment.plan.order_id)
    order_tracking_status_set(order=order, status=TrackingState.FAILURE, status_date=timezone.now())
    client = login_as(cast.backoffice)
    page = client.get(reverse("bnpl:dispute", args=[order.pk])).content.decode()
    assert "collections and dunning of this order are paused" in page
    assert client.post(reverse("bnpl:dispute", args=[order.pk]), {"decision": "resume", "note": ""}).status_code == 400
    response = client.post(
        reverse("bnpl:dispute", args=[order.pk]), {"decision": "resume", "note": "Delivered on second try"}
    )
    assert response.status_code == 302
    assert "collections and dunning run as scheduled" in client.get(response["Location"]).content.decode()
    assert login_as(cast.merchant).get(reverse("bnpl:dispute", args=[order.pk])).status_code == 403


def test_the_demo_statement_is_only_offered_in_debug(cast, run, login_as, settings):
    client = login_as(cast.backoffice)
    settings.DEBUG = False
    assert client.get(reverse("bnpl:demo-statement")).status_code == 404
    assert "demo bank statement" not in client.get(reverse("bnpl:collections")).content.decode()


def test_back_office_cancels_a_run_on_its_page_until_the_bank_answers(cast, run, login_as):
    client = login_as(cast.backoffice)
    page = client.get(reverse("bnpl:collection-run", args=[run.pk])).content.decode()
    assert "Cancel this run" in page
    response = client.post(reverse("bnpl:collection-run-cancel", args=[run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.state == CollectionRun.State.CANCELLED
    assert "Cancel this run" not in client.get(reverse("bnpl:collection-run", args=[run.pk])).content.decode()
    assert login_as(cast.merchant).post(reverse("bnpl:collection-run-cancel", args=[run.pk])).status_code == 403
