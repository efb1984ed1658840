"""The API kernel's tests: real endpoints, the signing client book, keys, and a small world for
tests that call the API over HTTP as an integrator would (live server).

Two firms' brokers (broker1 of Alpha Invest, broker3 of Beta Capital), each with a read-write
key for every resource group, the workspace's valued book, accrued commission statements, a
ready report with its PDF per broker, and a signature request per broker.
"""

import socket
from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from commissions import services as commission_services
from commissions.models import Statement
from portal.api import scopes
from reports.models import Report
from tests.api_keys.conftest import key_for
from tests.commissions.conftest import OCTOBER, SEPTEMBER, plans  # noqa: F401
from tests.intermediaries.conftest import market, workspace  # noqa: F401
from tests.signing.conftest import _media, book, pdf_bytes, transfer  # noqa: F401


class _NoDelayWSGIServer(ThreadedWSGIServer):
    """Django's test server with Nagle's algorithm off on each connection.

    wsgiref writes a response's headers and body in two sends; on a kept-alive connection the
    second waits for the client's delayed ACK (40 ms), which made every fuzzed call cost 50 ms
    instead of 10 and the schemathesis run several times longer.
    """

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _NoDelayLiveServerThread(LiveServerThread):
    server_class = _NoDelayWSGIServer


@pytest.fixture(scope="session")
def live_server():
    """pytest-django's live server (same settings handling), answering without the 40 ms stalls."""
    server = LiveServer("localhost", start=False)
    server.thread = _NoDelayLiveServerThread(
        "localhost",
        static_handler=server.thread.static_handler,
        connections_override=server.thread.connections_override,
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


def ready_report(*, broker, client) -> Report:
    """A report as the worker leaves it: ready, with its PDF stored."""
    report = Report.objects.create(
        requested_by=broker,
        kind=Report.Kind.STATEMENT,
        client=client,
        period_start=date(2026, 9, 1),
        period_end=date(2026, 10, 31),
        status=Report.Status.READY,
        progress=100,
        finished_at=timezone.now(),
        method="test",
    )
    report.file.save(f"report-{report.pk}.pdf", ContentFile(pdf_bytes(f"report {report.pk}")), save=True)
    return report


@pytest.fixture
def api_world(cast, workspace, plans, settings, tmp_path):  # noqa: F811 (fixtures imported above)
    settings.MEDIA_ROOT = tmp_path / "media"
    # Fuzzers and generated clients call faster than a person: the per-key limit is not under test here.
    settings.PORTAL_API_KEY_RATE = "1000000/minute"
    commission_services.month_accrue(period=SEPTEMBER)
    commission_services.month_accrue(period=OCTOBER)
    # Statements whose PDF exists, as after the month's close, so the download is reached too.
    for statement in Statement.objects.filter(beneficiary__in=[cast.broker1, cast.broker3], period=SEPTEMBER):
        statement.pdf.save(f"statement-{statement.pk}.pdf", ContentFile(pdf_bytes("statement")), save=True)
    everything = {group.key: scopes.WRITE for group in scopes.scope_groups()}
    _, key1 = key_for(cast.broker1, everything, name="fuzz broker1")
    _, key3 = key_for(cast.broker3, everything, name="fuzz broker3")
    _, read_only1 = key_for(cast.broker1, {group.key: scopes.READ for group in scopes.scope_groups()}, name="ro")
    return SimpleNamespace(
        cast=cast,
        book=workspace,
        statement=Statement.objects.get(beneficiary=cast.broker1, period=SEPTEMBER),
        keys={"broker1": key1, "broker3": key3},
        read_only_key=read_only1,
        reports={
            "broker1": ready_report(broker=cast.broker1, client=workspace.anna),
            "broker3": ready_report(broker=cast.broker3, client=workspace.dora),
        },
        signature_requests={
            "broker1": transfer(cast.broker1, workspace.anna, portfolio_reference="P1"),
            "broker3": transfer(cast.broker3, workspace.dora, portfolio_reference="P4"),
        },
    )
