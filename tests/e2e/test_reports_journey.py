"""broker1 requests a client statement, watches it being made by a real Celery worker, downloads it."""

import subprocess

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from tests.fakes.fixtures import celery_on_private_redis, private_redis  # noqa: F401
from tests.fakes.worker import CeleryWorker, database_url

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def report_worker(transactional_db, tmp_path, private_redis, celery_on_private_redis, settings):  # noqa: F811
    """A `celery worker` subprocess on a private Redis, writing PDFs where the live server reads them."""
    settings.MEDIA_ROOT = tmp_path / "media"
    worker = CeleryWorker(
        env={
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "false",
            "PORTAL_ALLOW_DEV_SECRET": "true",
            "REDIS_URL": private_redis.url,
            "DATABASE_URL": database_url(connection.settings_dict),
            "CONN_MAX_AGE": "0",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        },
        logfile=tmp_path / "worker.log",
    ).start()
    yield worker
    worker.stop()


def test_a_broker_requests_a_client_statement_sees_progress_and_downloads_it(
    page: Page, live_server, settings, workspace, cast, report_worker
):
    settings.PORTAL_REQUIRE_2FA = False
    log_in(page, live_server.url, cast.broker1.email, PASSWORD)
    page.get_by_test_id("role-nav").get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

    page.get_by_label("Report").select_option("portfolio_statement")
    page.get_by_label("Client", exact=True).fill("C1001")  # a number that names one client needs no pick
    page.get_by_label("From", exact=True).fill("2026-09-01")
    page.get_by_label("To", exact=True).fill("2026-10-31")
    page.get_by_role("button", name="Request report").click()

    # Right after the request the row shows its progress; the page polls until the worker is done.
    rows = page.get_by_test_id("report-rows")
    expect(page.get_by_role("status")).to_contain_text("requested")
    expect(page.get_by_test_id("report-progress")).to_be_visible()
    expect(rows).to_have_attribute("data-polling", "true")
    expect(page.get_by_test_id("report-download")).to_be_visible(timeout=60_000)
    expect(rows).to_have_attribute("data-polling", "false")
    page.reload()  # the bell is in the page's frame, outside the polled rows
    expect(page.get_by_test_id("notification-bell")).to_contain_text("1")

    with page.expect_download() as download:
        page.get_by_test_id("report-download").click()
    assert download.value.suggested_filename == "portfolio_statement-C1001-20260901-20261031.pdf"
    text = subprocess.run(
        ["pdftotext", str(download.value.path()), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Anna Albers" in text and "C1001" in text
    assert "2026-09-01 – 2026-10-31" in text
    assert "Client portfolio statement" in text
