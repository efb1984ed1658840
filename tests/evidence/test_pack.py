"""What an evidence pack holds: every file in the manifest with its true SHA-256, a summary PDF that
reads back the case's facts, the audit trail, each registered section, the documents; built once
however often the task runs; a failure is recorded, not hidden."""

import csv
import hashlib
import io
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError
from django.urls import reverse

from portal.audit.models import AuditEvent
from portal.evidence import building
from portal.evidence.models import EvidencePack
from portal.evidence.registry import EvidenceFile, EvidenceSection
from portal.evidence.tasks import evidence_pack_build

from .conftest import SIGNER_DEVICE, SIGNER_IP, flat, pdf_text, zip_of

pytestmark = pytest.mark.django_db


def csv_rows(archive, name) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_zip_lists_every_file_in_both_manifests_with_its_true_sha256_and_size(cast, signed, build):
    pack = build(cast.backoffice, signed)

    assert pack.state == EvidencePack.State.READY and pack.progress == 100
    data = pack.file.read()
    assert pack.sha256 == hashlib.sha256(data).hexdigest() and pack.size == len(data)
    archive = zip_of(pack)
    names = set(archive.namelist())
    ref = signed.short_reference
    assert names == {
        "summary.pdf",
        "audit_events.csv",
        f"documents/{ref}-signed.pdf",
        f"documents/{ref}-signed-content.json",
        "documents/order.pdf",
        "documents/annex.pdf",
        "manifest.json",
        "manifest.csv",
    }
    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names - {"manifest.json", "manifest.csv"}
    for path, entry in listed.items():
        content = archive.read(path)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), path
        assert entry["size"] == len(content), path
    as_csv = {row["Path"]: row for row in csv_rows(archive, "manifest.csv")}
    assert {path: (row["SHA-256"], int(row["Size (bytes)"])) for path, row in as_csv.items()} == {
        path: (entry["sha256"], entry["size"]) for path, entry in listed.items()
    }
    assert manifest["case"] == {"type": "signing.signaturerequest", "id": signed.pk, "title": str(signed)}
    assert manifest["requested_by"] == cast.backoffice.email


def test_the_documents_are_the_stored_files_byte_for_byte(cast, signed, build):
    archive = zip_of(build(cast.backoffice, signed))

    evidence = signed.evidence
    assert archive.read(f"documents/{signed.short_reference}-signed.pdf") == evidence.pdf.read()
    assert hashlib.sha256(archive.read(f"documents/{signed.short_reference}-signed.pdf")).hexdigest() == (
        evidence.pdf_sha256
    )
    for attachment in signed.attachments.all():
        assert hashlib.sha256(archive.read(f"documents/{attachment.name}")).hexdigest() == attachment.sha256
    content = json.loads(archive.read(f"documents/{signed.short_reference}-signed-content.json"))
    assert content == evidence.content


def test_the_summary_pdf_reads_back_what_happened_who_when_and_from_where(cast, signed, build):
    archive = zip_of(build(cast.backoffice, signed))
    text = pdf_text(archive.read("summary.pdf"))

    evidence = signed.evidence
    for fact in (
        "Evidence pack",
        "Signed request",
        signed.short_reference,
        "Müller & Söhne GmbH",
        "12,500.00 EUR",
        cast.broker1.email,
        cast.client1.email,
        SIGNER_IP,
        "req-signing-0001",
        evidence.masked_phone,
        "Audit trail",
        "Documents",
    ):
        assert fact in text, fact
    squeezed = flat(text)
    assert flat("Signature request signed") in squeezed  # the action's label, perhaps over two lines
    assert flat(SIGNER_DEVICE) in squeezed
    assert evidence.content_hash in squeezed
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        if entry["path"].startswith("documents/"):
            assert entry["sha256"] in squeezed, entry["path"]


def test_the_audit_events_of_the_case_are_in_the_pack_with_who_from_where_and_what_changed(
    cast, signed, login_as, django_capture_on_commit_callbacks
):
    client = login_as(cast.backoffice)
    url = reverse("evidence:pack-request", args=[ContentType.objects.get_for_model(signed).pk, signed.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, HTTP_USER_AGENT="EvidenceTest/1.0")
    pack = EvidencePack.objects.get()
    archive = zip_of(pack)
    rows = csv_rows(archive, "audit_events.csv")

    codes = [row["Action code"] for row in rows]
    expected = AuditEvent.objects.filter(object_type="signing.signaturerequest", object_id=str(signed.pk))
    assert codes == list(expected.order_by("created_at", "id").values_list("action", flat=True))
    for code in ("signing.request_created", "signing.request_sent", "signing.request_signed"):
        assert code in codes
    signed_row = next(row for row in rows if row["Action code"] == "signing.request_signed")
    assert signed_row["Actor"] == cast.client1.email
    assert signed_row["IP address"] == SIGNER_IP
    assert signed_row["User agent"] == SIGNER_DEVICE
    assert signed_row["Request id"] == "req-signing-0001"
    assert signed_row["Action"] == "Signature request signed"
    requested = next(row for row in rows if row["Action code"] == "evidence.pack_requested")
    event = AuditEvent.objects.get(action="evidence.pack_requested")
    assert requested["Actor"] == cast.backoffice.email
    assert requested["IP address"] == event.ip and requested["Request id"] == event.request_id != ""
    assert requested["User agent"] == "EvidenceTest/1.0"
    assert json.loads(requested["Changes"]) == {"pack": pack.pk}


def test_the_events_of_related_objects_count_too(cast, signed, build):
    from portal.audit.services import audit_record

    audit_record(action="signing.pdf_rendered", actor_label="system", obj=signed.evidence, changes={"note": "x"})

    rows = csv_rows(zip_of(build(cast.backoffice, signed)), "audit_events.csv")

    assert [row["Changes"] for row in rows if row["Object"].startswith("Signature evidence")] == ['{"note": "x"}']


def test_a_section_registered_by_another_part_appears_as_a_csv_a_table_and_its_files(
    cast, signed, build, extra_section
):
    def thread(obj):
        return EvidenceSection(
            key="thread",
            title="Conversation with the client",
            columns=["Time", "Author", "Message"],
            rows=[["2026-10-01T10:00:00+02:00", cast.broker1.email, "=SUM(A1) please call me back"]],
            files=[EvidenceFile("order.pdf", b"%PDF-1.4 a photo", "Attachment of a message")],
            note="Internal notes are marked as such.",
        )

    extra_section("thread", thread, order=30)
    extra_section("approvals", lambda obj: None, order=20)  # nothing to say for this case

    archive = zip_of(build(cast.backoffice, signed))

    names = archive.namelist()
    assert "thread.csv" in names and "approvals.csv" not in names
    # The section's file shares a name with an attachment: both are kept.
    assert archive.read("documents/order-2.pdf") == b"%PDF-1.4 a photo"
    rows = csv_rows(archive, "thread.csv")
    # A cell a spreadsheet would run as a formula is quoted.
    assert rows == [
        {"Time": "2026-10-01T10:00:00+02:00", "Author": cast.broker1.email, "Message": "'=SUM(A1) please call me back"}
    ]
    text = pdf_text(archive.read("summary.pdf"))
    assert "Conversation with the client" in text and "Internal notes are marked as such." in text
    assert text.index("Audit trail") < text.index("Conversation with the client")
    assert "documents/order-2.pdf" in json.dumps(json.loads(archive.read("manifest.json")))


def test_a_commission_statement_pack_holds_its_pdf_and_who_prepared_approved_and_paid_it(cast, statement, build):
    archive = zip_of(build(cast.backoffice, statement))

    assert archive.read("documents/commission-statement-2026-09.pdf") == statement.pdf.read()
    text = pdf_text(archive.read("summary.pdf"))
    for fact in ("Commission statement", cast.broker1.email, "2026-09", "1,234.56 EUR", "PAY-2026-09-001"):
        assert fact in text, fact
    assert cast.admin.email in text and cast.backoffice.email in text
    codes = [row["Action code"] for row in csv_rows(archive, "audit_events.csv")]
    assert codes == ["commissions.statement_approved", "evidence.pack_requested"]


def test_the_task_run_twice_builds_one_zip(cast, signed, build, settings):
    pack = build(cast.backoffice, signed)
    first = (pack.file.name, pack.sha256)

    assert evidence_pack_build.apply(args=[pack.pk]).result == "taken"
    assert building.evidence_pack_build(pack.pk) is None

    pack.refresh_from_db()
    assert (pack.file.name, pack.sha256) == first
    stored = list((settings.MEDIA_ROOT / "evidence").rglob("*.zip"))
    assert [p.name for p in stored] == [pack.file.name.rsplit("/", 1)[-1]]
    assert AuditEvent.objects.filter(action="evidence.pack_built").count() == 1


def test_a_second_request_while_one_is_on_its_way_returns_that_one(cast, signed, compliance):
    from portal.evidence import services

    first = services.evidence_pack_request(actor=cast.backoffice, obj=signed)  # not committed: still queued
    second = services.evidence_pack_request(actor=compliance, obj=signed)

    assert second.pk == first.pk and EvidencePack.objects.count() == 1
    assert AuditEvent.objects.filter(action="evidence.pack_requested").count() == 1


def test_a_pack_that_stopped_without_finishing_gives_way_to_a_new_request(cast, signed):
    from datetime import timedelta

    from django.utils import timezone

    from portal.evidence import services

    lost = services.evidence_pack_request(actor=cast.backoffice, obj=signed)
    EvidencePack.objects.filter(pk=lost.pk).update(
        state=EvidencePack.State.BUILDING, heartbeat_at=timezone.now() - timedelta(hours=1)
    )

    fresh = services.evidence_pack_request(actor=cast.backoffice, obj=signed)

    lost.refresh_from_db()
    assert fresh.pk != lost.pk and lost.state == EvidencePack.State.FAILED and "stopped" in lost.error


def test_a_failing_section_marks_the_pack_failed_with_the_reason(cast, signed, build, extra_section):
    def broken(obj):
        raise ValueError("the thread store is corrupt")

    extra_section("thread", broken)

    pack = build(cast.backoffice, signed)

    assert pack.state == EvidencePack.State.FAILED
    assert pack.error == "ValueError: the thread store is corrupt"
    assert not pack.file and pack.finished_at is not None
    event = AuditEvent.objects.get(action="evidence.pack_failed")
    assert event.object_id == str(pack.pk) and event.changes == {"error": pack.error}


def test_a_transient_error_is_retried_and_the_retry_builds_the_pack(cast, signed, build, extra_section):
    calls = []

    def flaky(obj):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return None

    extra_section("flaky", flaky)

    pack = build(cast.backoffice, signed)

    assert len(calls) == 2
    assert pack.state == EvidencePack.State.READY


def test_the_task_retries_only_known_transient_errors_with_backoff():
    assert OperationalError in evidence_pack_build.autoretry_for
    assert ValueError not in evidence_pack_build.autoretry_for
    assert evidence_pack_build.retry_backoff is True and evidence_pack_build.max_retries == 4


def test_a_requester_who_lost_the_right_gets_no_pack(cast, signed):
    from portal.evidence import services

    pack = services.evidence_pack_request(actor=cast.backoffice, obj=signed)
    cast.backoffice.groups.clear()

    built = building.evidence_pack_build(pack.pk)

    assert built.state == EvidencePack.State.FAILED and "may no longer" in built.error
