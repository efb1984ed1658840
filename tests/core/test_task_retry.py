"""Every Celery task retries in one form: `autoretry_for=TRANSIENT_ERRORS` with jittered backoff.

A transient error (the database or the broker away for a moment) is retried; a permanent one (a
ValidationError, a missing row, a bug) fails the task at once. The report render has its own
tests (tests/reports/test_tasks_and_admin.py), since it also records the failure on the report.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from commissions import services as commission_services
from commissions import tasks as commission_tasks
from portal.core.task_retry import RETRY_BACKOFF_MAX, TRANSIENT_ERRORS
from portal.notifications import delivery
from portal.notifications import tasks as notification_tasks
from portal.notifications.models import OutboxMessage

OUR_PACKAGES = {"portal", "clients", "signing", "intermediaries", "commissions", "reports"}
EXPECTED = {
    "commissions.tasks.commissions_accrue",
    "commissions.tasks.commissions_accrue_brokers",
    "commissions.tasks.commissions_month_close",
    "commissions.tasks.statement_pdf_render",
    "intermediaries.tasks.books_revalue",
    "intermediaries.tasks.dashboards_warm",
    "intermediaries.tasks.portfolios_revalue",
    "portal.notifications.tasks.deliver_outbox_message",
    "portal.notifications.tasks.outbox_sweep",
    "reports.tasks.report_render",
    "reports.tasks.reports_sweep",
    "signing.tasks.signed_request_finalise",
    "signing.tasks.signing_sweep",
}


def our_tasks() -> dict:
    from portal.celery import app

    app.loader.import_default_modules()  # what a worker does at start: autodiscover every tasks.py
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in OUR_PACKAGES}


def test_every_task_retries_only_on_the_known_transient_errors_with_jittered_backoff():
    tasks = our_tasks()
    assert set(tasks) >= EXPECTED
    for name, task in tasks.items():
        assert task.autoretry_for == TRANSIENT_ERRORS, name
        assert task.retry_backoff is True and task.retry_jitter is True, name
        assert task.retry_backoff_max == RETRY_BACKOFF_MAX, name
        assert 1 <= task.max_retries <= 8, name


def test_the_transient_errors_are_connection_and_lock_troubles_not_bugs_or_bad_input():
    for error in (OperationalError, InterfaceError, RedisConnectionError, BrokerOperationalError, TimeoutError):
        assert issubclass(error, TRANSIENT_ERRORS)
    for error in (ValidationError, OutboxMessage.DoesNotExist, ValueError, KeyError, FileNotFoundError):
        assert not issubclass(error, TRANSIENT_ERRORS)


@pytest.fixture
def flaky(monkeypatch):
    """`flaky(module, name, errors, result)` replaces module.name by a function that raises `errors` in turn."""

    def install(module, name, errors, result):
        calls = []

        def fake(**kwargs):
            calls.append(kwargs)
            if len(calls) <= len(errors):
                raise errors[len(calls) - 1]
            return result

        monkeypatch.setattr(module, name, fake)
        return calls

    return install


def test_a_commission_accrual_that_meets_a_database_hiccup_is_retried_and_done(flaky):
    calls = flaky(
        commission_services,
        "month_accrue",
        [OperationalError("deadlock detected"), InterfaceError("connection already closed")],
        result=7,
    )
    result = commission_tasks.commissions_accrue_brokers.apply(args=["2026-10-01", [1, 2]])
    assert result.successful() and result.result == 7
    assert len(calls) == 3


def test_a_commission_accrual_that_keeps_meeting_a_transient_error_stops_after_its_retries(flaky):
    calls = flaky(commission_services, "month_accrue", [OperationalError("server closed the connection")] * 10, 0)
    result = commission_tasks.commissions_accrue_brokers.apply(args=["2026-10-01", [1]])
    assert result.failed() and isinstance(result.result, OperationalError)
    assert len(calls) == commission_tasks.commissions_accrue_brokers.max_retries + 1


def test_a_month_close_refused_as_bad_input_is_not_retried(flaky):
    calls = flaky(
        commission_services,
        "month_close_finish",
        [ValidationError("This month is already being closed or closed.")],
        result=[],
    )
    result = commission_tasks.commissions_month_close.apply(args=["2026-10-01"])
    assert result.failed() and isinstance(result.result, ValidationError)
    assert len(calls) == 1


def test_a_delivery_that_meets_a_broker_or_database_hiccup_is_retried(flaky):
    calls = flaky(
        delivery,
        "outbox_message_deliver",
        [BrokerOperationalError("Error 111 connecting"), OperationalError("the database system is starting up")],
        result="sent",
    )
    result = notification_tasks.deliver_outbox_message.apply(args=[41])
    assert result.successful() and result.result == "sent"
    assert calls == [{"message_id": 41}] * 3


def test_a_delivery_of_a_missing_row_is_not_retried(flaky):
    calls = flaky(delivery, "outbox_message_deliver", [OutboxMessage.DoesNotExist()], result=None)
    result = notification_tasks.deliver_outbox_message.apply(args=[41])
    assert result.failed() and isinstance(result.result, OutboxMessage.DoesNotExist)
    assert len(calls) == 1
