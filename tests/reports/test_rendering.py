"""Rendering: the PDF's text read back, the inputs hash, costs and inducements figures, refusals,
claims, and nothing fetched from the network."""

import socket
import threading
from decimal import Decimal

import pytest

from commissions import services as commission_services
from commissions.models import Accrual
from portal.notifications.models import Notification
from portal.pdf import pdf_from_html
from reports import documents, rendering
from reports.models import Report
from tests.commissions.conftest import OCTOBER, SEPTEMBER
from tests.intermediaries.conftest import DAYS, book

from .conftest import OCT_END, SEP, pdf_text

pytestmark = pytest.mark.django_db


def test_a_portfolio_statement_names_the_client_period_method_and_hash(cast, workspace, rendered):
    report = rendered(cast.broker1, client_id=workspace.anna.pk)
    assert report.status == Report.Status.READY and report.progress == 100
    assert len(report.inputs_hash) == 64 and len(report.file_sha256) == 64
    text = pdf_text(report.file.path)
    assert "Client portfolio statement" in text
    assert "Anna Albers (C1001)" in text
    assert "2026-09-01 – 2026-10-31" in text
    assert documents.METHOD in text
    assert report.inputs_hash in text.replace("\n", "").replace(" ", "")
    assert "SAP SE" in text and "Dividend" in text
    assert "Time-weighted" in text and "Positions on" in text


def test_the_requester_is_notified(cast, workspace, rendered):
    rendered(cast.broker1, client_id=workspace.anna.pk)
    notification = Notification.objects.get(user=cast.broker1, event="reports.ready")
    assert "Client portfolio statement" in notification.title and notification.link_url == "/reports/"


def test_the_same_request_over_the_same_data_gives_the_same_hash_and_new_data_another(cast, workspace, rendered):
    first = rendered(cast.broker1, client_id=workspace.anna.pk)
    again = rendered(cast.broker1, client_id=workspace.anna.pk)
    assert again.pk != first.pk and again.inputs_hash == first.inputs_hash
    book("LATE", workspace.portfolios["C1001"], "fee", DAYS[25], "5")
    changed = rendered(cast.broker1, client_id=workspace.anna.pk)
    assert changed.inputs_hash != first.inputs_hash


def test_another_method_version_gives_another_hash_for_the_same_figures(cast, workspace, rendered, monkeypatch):
    first = rendered(cast.broker1, client_id=workspace.anna.pk)
    monkeypatch.setattr(documents, "METHOD", "pz-reports-test")
    again = rendered(cast.broker1, client_id=workspace.anna.pk)
    assert again.inputs_hash != first.inputs_hash
    assert "pz-reports-test" in pdf_text(again.file.path)


def test_the_costs_statement_shows_costs_and_inducements_in_money_and_percent(cast, workspace, plans, rendered):
    commission_services.month_accrue(period=SEPTEMBER)
    commission_services.month_accrue(period=OCTOBER)
    report = rendered(cast.broker1, kind=Report.Kind.COSTS, client_id=workspace.anna.pk)
    text = pdf_text(report.file.path)
    assert "Ex-post costs and charges statement" in text and "Anna Albers (C1001)" in text
    assert "Service fees (custody, account, advice)" in text and "15.00" in text
    inducements = sum(
        (a.amount for a in Accrual.objects.filter(client=workspace.anna, date__gte=SEP, date__lte=OCT_END)), Decimal(0)
    )
    assert inducements > 0
    assert f"{inducements.quantize(Decimal('0.01')):,}" in text
    assert "% of the average invested amount" in text and "Total costs and charges" in text
    assert "Third-party payments (inducements)" in text


def test_the_inducements_disclosure_adds_up_to_the_brokers_commissions(cast, workspace, plans, rendered):
    commission_services.month_accrue(period=SEPTEMBER)
    report = rendered(cast.broker1, kind=Report.Kind.INDUCEMENTS)
    text = pdf_text(report.file.path)
    total = sum((a.amount for a in Accrual.objects.filter(beneficiary=cast.broker1, period=SEPTEMBER)), Decimal(0))
    assert "Inducements disclosure" in text and cast.broker1.email in text
    assert f"{total.quantize(Decimal('0.01')):,}" in text
    assert "C1001" in text and "C2001" not in text  # only broker1's own clients


def test_a_client_taken_away_before_rendering_fails_the_report(cast, workspace, media):
    from reports import services

    report = services.report_request(
        actor=cast.broker1,
        kind=Report.Kind.STATEMENT,
        client_id=workspace.anna.pk,
        period_start=SEP,
        period_end=OCT_END,
    )
    workspace.anna.advisor = cast.broker2
    workspace.anna.save()
    rendering.report_render(report.pk)
    report.refresh_from_db()
    assert report.status == Report.Status.FAILED and "no longer see this client" in report.error
    assert not report.file


def test_a_report_is_claimed_by_one_worker_only(cast, workspace, media):
    from reports import services

    report = services.report_request(
        actor=cast.broker1,
        kind=Report.Kind.STATEMENT,
        client_id=workspace.anna.pk,
        period_start=SEP,
        period_end=OCT_END,
    )
    assert rendering.report_claim(report.pk) is True
    assert rendering.report_claim(report.pk) is False
    assert rendering.report_render(report.pk) is None  # a second worker finds it taken
    report.refresh_from_db()
    assert report.status == Report.Status.RUNNING and report.attempts == 1


def test_a_ready_report_is_not_rendered_again(cast, workspace, rendered):
    report = rendered(cast.broker1, client_id=workspace.anna.pk)
    assert rendering.report_render(report.pk) is None
    assert Report.objects.get(pk=report.pk).file_sha256 == report.file_sha256


def test_pdf_rendering_fetches_nothing_from_the_network():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections = []

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connections.append(conn)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/a.css"><style>@import url("{base}/b.css");'
        f'@font-face {{ font-family: X; src: url("{base}/f.woff"); }} body {{ background: url("{base}/bg.png"); }}</style>'
        f'</head><body><img src="{base}/i.png"><img src="file:///etc/passwd"><p>Hello</p></body></html>'
    )
    data = pdf_from_html(html)
    listener.close()
    thread.join(timeout=2)
    assert data.startswith(b"%PDF")
    assert connections == []


def test_a_period_before_the_clients_history_gives_a_statement_without_figures(cast, workspace, rendered):
    from datetime import date

    report = rendered(cast.broker1, client_id=workspace.anna.pk, start=date(2025, 1, 1), end=date(2025, 12, 31))
    assert report.status == Report.Status.READY
    text = pdf_text(report.file.path)
    assert "Anna Albers (C1001)" in text and "No transactions in the period." in text
    costs = rendered(
        cast.broker1,
        kind=Report.Kind.COSTS,
        client_id=workspace.anna.pk,
        start=date(2025, 1, 1),
        end=date(2025, 12, 31),
    )
    assert costs.status == Report.Status.READY
