"""Demo data: broker1 has last year's portfolio statement for their first client, ready to download."""

from django.contrib.auth import get_user_model

from clients.selectors import client_list

from .forms import last_year
from .models import Report
from .services import report_request


def demo_step(*, scale: str, stdout) -> None:
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
