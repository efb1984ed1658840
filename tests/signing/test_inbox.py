"""Signed requests in the work inbox: an item opens when the client signs, with the request's title,
the client and its back-office page, and closes when the back office marks it processed or returned;
requests signed before the inbox existed get theirs from the data migration or `inbox_sync`."""

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.inbox.models import WorkItem
from portal.inbox.selectors import inbox_count, inbox_items
from signing import services
from signing.demo import demo_step
from signing.inbox import HANDLING_TIME, KIND
from signing.models import SignatureRequest

from .conftest import request_code, sign, transfer

pytestmark = pytest.mark.django_db


def signed(cast, client) -> SignatureRequest:
    request = transfer(cast.broker1, client, title="Flat deposit")
    sign(request, cast.client1, request_code(request, cast.client1))
    return SignatureRequest.objects.get(pk=request.pk)


def test_signing_opens_the_item_and_handling_closes_it_with_the_outcome(cast, book):
    request = signed(cast, book.anna)
    item = WorkItem.objects.get(kind=KIND, object_id=request.pk)
    assert item.subject == str(request) and request.short_reference in item.subject
    assert item.party == request.recipient_label and item.party
    assert item.url == reverse("signing:backoffice-detail", args=[request.pk])
    assert (item.opened_at, item.due_at, item.state) == (request.signed_at, request.signed_at + HANDLING_TIME, "Signed")
    assert list(inbox_items(actor=cast.backoffice, kind=KIND)) == [item]
    assert inbox_count(actor=cast.broker1) == 0

    services.signature_request_handle(actor=cast.backoffice, request_id=request.pk, outcome="returned", comment="IBAN?")
    item.refresh_from_db()
    assert item.closed_at is not None and item.state == "Returned"
    assert not inbox_items(actor=cast.backoffice).exists()


def test_a_refused_handling_leaves_the_item_open(cast, book):
    request = signed(cast, book.anna)
    with pytest.raises(ValidationError):  # a return needs a reason
        services.signature_request_handle(actor=cast.backoffice, request_id=request.pk, outcome="returned")
    assert WorkItem.objects.get(kind=KIND, object_id=request.pk).closed_at is None


def test_the_data_migration_and_the_sync_open_items_for_requests_already_waiting(cast, book):
    request = transfer(cast.broker1, book.anna)
    SignatureRequest.objects.filter(pk=request.pk).update(status="signed", signed_at=timezone.now())
    handled = transfer(cast.broker1, book.anna)
    SignatureRequest.objects.filter(pk=handled.pk).update(status="processed", signed_at=timezone.now())
    migration = importlib.import_module("signing.migrations.0003_signed_requests_into_work_inbox")

    migration.open_items(django_apps, None)
    migration.open_items(django_apps, None)  # a second run adds nothing

    item = WorkItem.objects.get(kind=KIND)
    assert item.object_id == request.pk and item.closed_at is None
    assert item.url == reverse("signing:backoffice-detail", args=[request.pk])
    assert item.subject == str(SignatureRequest.objects.get(pk=request.pk))

    WorkItem.objects.all().delete()
    out = io.StringIO()
    call_command("inbox_sync", stdout=out)
    assert f"{KIND}: 1 open" in out.getvalue()
    assert WorkItem.objects.get(kind=KIND).object_id == request.pk


def test_after_the_demo_the_back_office_has_signed_requests_waiting_and_a_second_run_changes_nothing(cast, book):
    demo_step(scale="small", stdout=io.StringIO())
    demo_step(scale="small", stdout=io.StringIO())
    waiting = inbox_items(actor=cast.backoffice, kind=KIND)
    assert waiting.count() == SignatureRequest.objects.filter(status="signed").count() >= 1
    assert inbox_items(actor=cast.backoffice, kind=KIND, status="closed").count() == 1
    assert WorkItem.objects.count() == SignatureRequest.objects.filter(status__in=["signed", "processed"]).count()
