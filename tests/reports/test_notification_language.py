"""The reports' notifications keep the report's kind as its code and name it in the reader's language.

The worker writes them in whatever language it runs in; a German broker reads "Depotauszug des
Kunden" all the same, in the portal and in the e-mail sent to him.
"""

import pytest
from django.utils import translation

from portal.notifications.delivery import outbox_message_deliver
from portal.notifications.models import Notification, OutboxMessage
from reports import rendering, services
from reports.models import Report

from .conftest import Q3_END, Q3_START

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(cast, workspace, rendered, settings):
    """broker1's portfolio statement of Anna, rendered by a worker that runs in English."""
    settings.PORTAL_EMAIL_TRANSPORT = "dev"
    with translation.override("en"):
        rendered(cast.broker1, client_id=workspace.anna.pk)
    return Notification.objects.get(user=cast.broker1, event="reports.ready")


def test_the_report_ready_notification_keeps_the_kind_code(ready):
    assert ready.params["report"]["values"] == {"kind": Report.Kind.STATEMENT}


def test_a_german_reader_sees_the_kind_in_german(ready):
    with translation.override("en"):
        assert ready.title_display == "Report ready: Client portfolio statement"
    with translation.override("de"):
        assert ready.title_display == "Bericht bereit: Depotauszug des Kunden"
        assert "Depotauszug des Kunden, Anna Albers (C1001)" in ready.body_display
    with translation.override("ru"):
        assert ready.title_display == "Отчёт готов: Выписка по портфелю клиента"


def test_the_email_names_the_kind_in_the_recipients_language_when_sent(cast, ready):
    message = OutboxMessage.objects.get(user=cast.broker1, event="reports.ready", channel="email")
    cast.broker1.language = "de"
    cast.broker1.save(update_fields=["language"])
    assert outbox_message_deliver(message_id=message.pk) == OutboxMessage.Status.SENT
    message.refresh_from_db()
    assert message.subject == "Ihr Bericht ist bereit: Depotauszug des Kunden"
    assert "Depotauszug des Kunden" in message.body and "Client portfolio statement" not in message.body


def test_a_notification_written_before_keeps_its_text(cast):
    old = Notification.objects.create(
        user=cast.broker1,
        event="reports.ready",
        title="Report ready: Client portfolio statement",
        params={"report": "Client portfolio statement", "subject": "Anna", "start": None, "end": None},
    )
    with translation.override("de"):
        assert old.title_display == "Bericht bereit: Client portfolio statement"


def test_the_clients_statement_notification_keeps_the_kind_code(cast, fund_book, media):
    (report_id,) = services.statements_issue(
        kind=Report.Kind.COSTS, period_start=Q3_START, period_end=Q3_END, client_ids=[fund_book.client.pk]
    )
    with translation.override("ru"):
        rendering.report_render(report_id)
    told = Notification.objects.get(user=cast.client2, event="reports.statement_ready")
    assert told.params["kind"] == Report.Kind.COSTS
    with translation.override("en"):
        assert told.title_display == "New costs and charges statement"
