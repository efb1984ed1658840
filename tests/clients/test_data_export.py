"""Download my data: a ZIP with data.json and the parts' files, for its owner only, for 7 days."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients import zone
from clients.exports import data_export_build, data_exports_sweep
from clients.models import Client, DataExport
from clients.services import EXPORTS_PER_DAY, data_export_request
from portal.audit.models import AuditEvent
from portal.notifications.models import Notification
from portal.notifications.services import preferences_update

pytestmark = pytest.mark.django_db
Status = DataExport.Status
PDF = b"%PDF-1.4 a statement\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def records(cast):
    anna = Client.objects.create(
        number="C1001", first_name="Anna", last_name="Albers", advisor=cast.broker1, user=cast.client1, city="Berlin"
    )
    bert = Client.objects.create(
        number="C1002", first_name="Bert", last_name="Brandt", advisor=cast.broker1, user=cast.client2
    )
    return anna, bert


@pytest.fixture
def statements_part():
    """A part as another app registers it: data per client and a PDF, with awkward file names."""

    def build(client):
        data = {"statements": [{"number": f"ST-{client.number}", "total": {"amount": "12.50", "currency": "EUR"}}]}
        files = [
            zone.ExportFile(name=f"statements/ST-{client.number}.pdf", content=lambda: PDF),
            zone.ExportFile(name="../../etc/passwd", content=lambda: b"not outside"),
            zone.ExportFile(name=f"statements/ST-{client.number}.pdf", content=lambda: PDF + b"2"),
            zone.ExportFile(name="statements/lost.pdf", content=_missing),
        ]
        return data, files

    zone.register_export_part(zone.DataExportPart(key="test_statements", build=build))
    yield
    zone._registry.export_parts.pop("test_statements", None)


def _missing() -> bytes:
    raise FileNotFoundError("gone from storage")


def ask(client, django_capture_on_commit_callbacks):
    """The client asks on the page; the task runs when the request commits (eager, as in the demo).

    Returns the panel as the page's polling shows it afterwards.
    """
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clients:profile-export"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="export-panel"' in response.text
    return client.get(reverse("clients:profile-export-status"))


def opened(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_client_asks_downloads_and_finds_everything_in_the_zip(
    cast, records, statements_part, login_as, django_capture_on_commit_callbacks
):
    preferences_update(user=cast.client1, event="clients.data_export_ready", in_app=True, email=False, sms=False)
    client = login_as(cast.client1)

    response = ask(client, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert 'data-state="ready"' in response.text and 'data-testid="export-download"' in response.text
    export = DataExport.objects.get()
    assert export.status == Status.READY and export.expires_at > timezone.now() + timedelta(days=6, hours=23)
    assert Notification.objects.filter(user=cast.client1, event="clients.data_export_ready").exists()

    download = client.get(reverse("clients:profile-export-download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    archive = opened(download)
    names = set(archive.namelist())
    assert names == {
        "data.json",
        "README.txt",
        "statements/ST-C1001.pdf",
        "statements/ST-C1001-2.pdf",
        "etc/passwd",
    }
    assert archive.read("statements/ST-C1001.pdf") == PDF
    data = json.loads(archive.read("data.json"))
    assert data["format"] == "partnerzone.data-export" and data["version"] == 1
    assert data["client"]["number"] == "C1001" and data["client"]["city"] == "Berlin"
    assert data["client"]["advisor"]["email"] == "broker1@example.com"
    assert data["account"]["email"] == "client1@example.com"
    assert data["account"]["mobile_phone"] == "+4915112345001"
    assert "password" not in json.dumps(data["account"])
    assert {"event": "clients.data_export_ready", "in_app": True, "email": False, "sms": False}.items() <= next(
        p for p in data["notification_preferences"] if p["event"] == "clients.data_export_ready"
    ).items()
    assert data["parts"]["test_statements"]["statements"][0]["number"] == "ST-C1001"
    assert data["files"]["test_statements"] == ["statements/ST-C1001.pdf", "etc/passwd", "statements/ST-C1001-2.pdf"]
    assert data["files_missing"] == ["statements/lost.pdf"]
    assert any(event["action"] == "client.data_export_requested" for event in data["activity"])
    assert AuditEvent.objects.filter(action="client.data_export_downloaded", actor=cast.client1).exists()


def test_the_zip_holds_only_the_clients_own_data(
    cast, records, statements_part, login_as, django_capture_on_commit_callbacks
):
    ask(login_as(cast.client2), django_capture_on_commit_callbacks)
    export = DataExport.objects.get()

    download = login_as(cast.client2).get(reverse("clients:profile-export-download", args=[export.pk]))

    data = json.loads(opened(download).read("data.json"))
    assert data["client"]["number"] == "C1002"
    assert "C1001" not in json.dumps(data)


@pytest.mark.parametrize("who", ["client2", "client3", "broker1", "manager", "backoffice", "admin", "outsider"])
def test_nobody_else_can_download_it(cast, records, login_as, django_capture_on_commit_callbacks, who):
    ask(login_as(cast.client1), django_capture_on_commit_callbacks)
    export = DataExport.objects.get()

    response = login_as(getattr(cast, who)).get(reverse("clients:profile-export-download", args=[export.pk]))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="client.data_export_downloaded").exists()


def test_the_page_shows_the_state_queued_then_ready(cast, records, login_as):
    client = login_as(cast.client1)
    data_export_request(actor=cast.client1)  # no commit in this test: the task has not run

    queued = client.get(reverse("clients:profile-export-status"))
    assert 'data-state="queued"' in queued.text and "hx-trigger" in queued.text
    assert 'data-testid="export-request"' not in queued.text

    data_export_build(export_id=DataExport.objects.get().pk)
    ready = client.get(reverse("clients:profile-export-status"))
    assert 'data-state="ready"' in ready.text and "hx-trigger" not in ready.text


def test_asking_again_while_it_is_prepared_queues_nothing_new(cast, records):
    first = data_export_request(actor=cast.client1)
    again = data_export_request(actor=cast.client1)

    assert again.pk == first.pk
    assert DataExport.objects.count() == 1
    assert AuditEvent.objects.filter(action="client.data_export_requested").count() == 1


def test_a_client_may_ask_five_times_a_day(cast, records, login_as):
    for _ in range(EXPORTS_PER_DAY):
        data_export_build(export_id=data_export_request(actor=cast.client1).pk)

    response = login_as(cast.client1).post(reverse("clients:profile-export"), HTTP_HX_REQUEST="true")

    assert response.status_code == 400 and "try again tomorrow" in response.text
    assert DataExport.objects.count() == EXPORTS_PER_DAY


def test_building_twice_builds_once(cast, records):
    export = data_export_request(actor=cast.client1)

    assert data_export_build(export_id=export.pk).status == Status.READY
    assert data_export_build(export_id=export.pk) is None

    assert DataExport.objects.get().attempts == 1
    assert Notification.objects.filter(event="clients.data_export_ready").count() == 1


def test_a_part_that_fails_fails_the_export_and_the_client_can_ask_again(
    cast, records, login_as, django_capture_on_commit_callbacks
):
    def broken(client):
        raise ValueError("the statements table is gone")

    zone.register_export_part(zone.DataExportPart(key="test_broken", build=broken))
    try:
        response = ask(login_as(cast.client1), django_capture_on_commit_callbacks)
    finally:
        zone._registry.export_parts.pop("test_broken", None)

    export = DataExport.objects.get()
    assert export.status == Status.FAILED and "statements table is gone" in export.error
    assert 'data-state="failed"' in response.text and "We could not prepare your data" in response.text
    assert 'data-testid="export-request"' in response.text


def test_after_seven_days_the_sweep_deletes_the_file_and_the_link_answers_404(
    cast, records, login_as, django_capture_on_commit_callbacks
):
    export = data_export_build(export_id=data_export_request(actor=cast.client1).pk)
    stored = export.file.name
    storage = DataExport.file.field.storage
    assert storage.exists(stored)
    client = login_as(cast.client1)

    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("clients:profile-export-download", args=[export.pk])).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        assert data_exports_sweep()["expired"] == 1

    assert not storage.exists(stored)
    assert DataExport.objects.get().status == Status.EXPIRED
    assert 'data-state="expired"' in client.get(reverse("clients:profile-export-status")).text


def test_the_sweep_queues_a_lost_build_again(cast, records, django_capture_on_commit_callbacks):
    export = data_export_request(actor=cast.client1)  # queued, but the task never ran
    DataExport.objects.filter(pk=export.pk).update(queued_at=timezone.now() - timedelta(minutes=11))

    with django_capture_on_commit_callbacks(execute=True):
        result = data_exports_sweep()

    assert result["requeued"] == 1
    assert DataExport.objects.get().status == Status.READY


def test_a_build_whose_worker_died_is_built_again(cast, records, django_capture_on_commit_callbacks):
    export = data_export_request(actor=cast.client1)
    DataExport.objects.filter(pk=export.pk).update(
        status=Status.BUILDING, started_at=timezone.now() - timedelta(minutes=20), attempts=1
    )

    with django_capture_on_commit_callbacks(execute=True):
        data_exports_sweep()

    export = DataExport.objects.get()
    assert export.status == Status.READY and export.attempts == 2
