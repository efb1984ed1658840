"""Demo data: broker1 has last year's portfolio statement for their first client, and the demo
clients (client1-3) each have last quarter's portfolio statement and last year's costs and charges
statement, rendered here so that they download at once."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from clients.models import Client
from clients.selectors import client_list
from intermediaries.models import AssetClass, Instrument

from . import rendering
from .forms import last_year
from .models import Report
from .services import last_calendar_year, last_quarter, report_request, statements_issue

DEMO_CLIENTS = ("client1@example.com", "client2@example.com", "client3@example.com")
# Typical ongoing charges (TER, % a year): the core feed does not carry them, so the demo sets them
# for the costs statement's product costs.
DEMO_ONGOING_CHARGES = {AssetClass.ETF: Decimal("0.20"), AssetClass.FUND: Decimal("1.45")}


def demo_step(*, scale: str, stdout) -> None:
    for asset_class, ter in DEMO_ONGOING_CHARGES.items():
        Instrument.objects.filter(asset_class=asset_class, ongoing_charges__isnull=True).update(ongoing_charges=ter)
    _broker_report(stdout)
    _client_statements(stdout)


def _broker_report(stdout) -> None:
    broker = get_user_model().objects.filter(email="broker1@example.com").first()
    if broker is None:
        return
    if Report.objects.filter(requested_by=broker).exists():
        stdout.write("  reports: broker1's demo report exists")
        return
    client = client_list(actor=broker).order_by("number").first()
    if client is None:
        return
    start, end = last_year()
    report = report_request(
        actor=broker, kind=Report.Kind.STATEMENT, client_id=client.pk, period_start=start, period_end=end
    )
    stdout.write(f"  reports: portfolio statement {start.year} for {client.number} requested (#{report.pk})")


def _client_statements(stdout) -> None:
    """The statements the schedule would issue, for the demo clients only (the schedule issues the rest)."""
    client_ids = list(Client.objects.filter(user__email__in=DEMO_CLIENTS).values_list("pk", flat=True))
    if not client_ids:
        return
    today = timezone.localdate()
    issued = []
    for kind, (start, end) in (
        (Report.Kind.STATEMENT, last_quarter(today)),
        (Report.Kind.COSTS, last_calendar_year(today)),
    ):
        issued += statements_issue(kind=kind, period_start=start, period_end=end, client_ids=client_ids)
    # Without a worker (the demo) the renders ran on commit already; with one, render here anyway.
    for report_id in issued:
        rendering.report_render(report_id)
    ready = Report.objects.filter(pk__in=issued, status=Report.Status.READY).count()
    stdout.write(f"  reports: {len(issued)} statements issued to the demo clients, {ready} ready")
