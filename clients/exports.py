"""Building "download my data" (GDPR Art. 15/20): one ZIP with data.json and the parts' files.

`data.json` holds the client record, the user's account, notification settings, notifications,
sessions and own activity, and the data of every part the apps above register in
`clients.zone` (portfolios, signed requests, statements …); the parts' files (PDFs) go beside it.

A Celery task calls `data_export_build`, which claims the export with a conditional UPDATE, so two
workers never build one; a retry after a transient error finds it queued again and builds it
whole (the file name is fixed per export, so it overwrites, never piles up). `data_exports_sweep`
queues builds that were lost, and deletes files past their 7 days.
"""

import hashlib
import json
import logging
import posixpath
import tempfile
import zipfile
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from portal.accounts.user_sessions import user_session_list
from portal.audit.models import AuditEvent
from portal.audit.services import audit_record
from portal.notifications.models import Notification
from portal.notifications.selectors import notification_preference_rows
from portal.notifications.services import notify

from . import zone
from .models import Client, DataExport

logger = logging.getLogger(__name__)
Status = DataExport.Status

FORMAT = "partnerzone.data-export"
FORMAT_VERSION = 1
KEEP_DAYS = 7
MAX_ATTEMPTS = 5
# A build whose worker died leaves it "building"; one queued and never taken was lost on the way.
STUCK_AFTER = timedelta(minutes=15)
LOST_AFTER = timedelta(minutes=10)
ACTIVITY_LIMIT = 5000
NOTIFICATION_LIMIT = 5000


def data_export_build(*, export_id: int) -> DataExport | None:
    """Build a queued export (a no-op when it is done, failed or another worker has it)."""
    started = timezone.now()
    claimed = DataExport.objects.filter(pk=export_id, status=Status.QUEUED).update(
        status=Status.BUILDING, started_at=started, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    export = DataExport.objects.select_related("client", "client__advisor", "user").get(pk=export_id)
    try:
        name, size, digest = _zip_store(export)
    except Exception:
        # Given back, so a retry (or the sweep) builds it again; the task's last failure marks it failed.
        DataExport.objects.filter(pk=export_id, status=Status.BUILDING).update(status=Status.QUEUED)
        raise
    now = timezone.now()
    with transaction.atomic():
        done = DataExport.objects.filter(pk=export_id, status=Status.BUILDING).update(
            status=Status.READY,
            file=name,
            size=size,
            sha256=digest,
            finished_at=now,
            expires_at=now + timedelta(days=KEEP_DAYS),
            error="",
        )
        if done:
            audit_record(
                action="client.data_export_ready",
                actor_label="system",
                obj=export.client,
                changes={"export": export.pk, "sha256": digest, "bytes": size},
            )
            notify(
                user=export.user,
                event="clients.data_export_ready",
                context={"expires_at": now + timedelta(days=KEEP_DAYS)},
                link=reverse("clients:profile") + "#my-data",
                idempotency_key=f"data-export:{export.pk}:ready",
            )
    export.refresh_from_db()
    return export


def data_export_fail(export_id: int, reason: str) -> bool:
    """Mark an export that could not be built failed (after the task's last try); True if it was open."""
    failed = DataExport.objects.filter(pk=export_id, status__in=[Status.QUEUED, Status.BUILDING]).update(
        status=Status.FAILED, error=reason[:300], finished_at=timezone.now()
    )
    if failed:
        logger.warning("Data export %s failed: %s", export_id, reason)
    return bool(failed)


def data_exports_sweep(*, now=None) -> dict[str, int]:
    """Delete expired files; queue again builds that were lost or whose worker died; give up after MAX_ATTEMPTS."""
    from .services import data_export_queue_on_commit

    now = now or timezone.now()
    expired = 0
    for export in DataExport.objects.filter(status=Status.READY, expires_at__lte=now).select_related("client"):
        with transaction.atomic():
            if not DataExport.objects.filter(pk=export.pk, status=Status.READY).update(
                status=Status.EXPIRED, file="", size=0
            ):
                continue
            audit_record(
                action="client.data_export_expired",
                actor_label="system",
                obj=export.client,
                changes={"export": export.pk},
            )
            stored = export.file.name
            transaction.on_commit(lambda stored=stored: DataExport.file.field.storage.delete(stored))
        expired += 1
    stuck = DataExport.objects.filter(status=Status.BUILDING, started_at__lt=now - STUCK_AFTER)
    lost = DataExport.objects.filter(status=Status.QUEUED, queued_at__lt=now - LOST_AFTER)
    given_up = 0
    for export_id in list(stuck.filter(attempts__gte=MAX_ATTEMPTS).values_list("pk", flat=True)):
        given_up += data_export_fail(export_id, "The build stopped too often.")
    requeued = 0
    for queryset in (stuck, lost):
        for export_id in list(queryset.values_list("pk", flat=True)):
            with transaction.atomic():
                if queryset.filter(pk=export_id).update(status=Status.QUEUED, queued_at=now):
                    data_export_queue_on_commit(export_id)
                    requeued += 1
    return {"expired": expired, "requeued": requeued, "failed": given_up}


# --- the ZIP ---------------------------------------------------------------------------------------


def _zip_store(export: DataExport) -> tuple[str, int, str]:
    """Write the ZIP to a temporary file, then to its fixed place in storage; (name, bytes, SHA-256)."""
    storage = DataExport.file.field.storage
    with tempfile.TemporaryFile() as handle:
        _zip_write(export, handle)
        size = handle.tell()
        handle.seek(0)
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        handle.seek(0)
        name = DataExport.file.field.generate_filename(export, "data.zip")
        storage.delete(name)  # an earlier attempt's file: replaced, not kept beside
        stored = storage.save(name, File(handle, name=name))
    return stored, size, digest


def _zip_write(export: DataExport, handle) -> None:
    client, user = export.client, export.user
    taken: set[str] = {"data.json", "README.txt"}
    parts, files, missing = {}, {}, []
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in zone.export_parts():
            data, part_files = part.build(client)
            parts[part.key] = data
            names = []
            for export_file in part_files:
                name = _zip_name(part.key, export_file.name, taken)
                try:
                    content = export_file.content()
                except FileNotFoundError:
                    missing.append(name)
                    continue
                archive.writestr(name, content)
                names.append(name)
            if names:
                files[part.key] = names
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": timezone.now(),
            "requested_at": export.created_at,
            "client": _client_data(client),
            "account": _account_data(user),
            "notification_preferences": _preferences_data(user),
            "notifications": _notifications_data(user),
            "sessions": _sessions_data(user),
            "activity": _activity_data(user),
            "parts": parts,
            "files": files,
            "files_missing": missing,
        }
        archive.writestr("data.json", json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        language = user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        with translation.override(language):
            readme = render_to_string("clients/export_readme.txt", {"client": client, "user": user, "files": files})
        archive.writestr("README.txt", readme)


def _zip_name(part_key: str, name: str, taken: set[str]) -> str:
    """A safe, unique path inside the ZIP: no absolute paths, no "..", no backslashes."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    clean = posixpath.join(*parts) if parts else f"{part_key}/file"
    candidate, n = clean, 1
    while candidate in taken:
        n += 1
        stem, dot, ext = clean.rpartition(".")
        candidate = f"{stem}-{n}.{ext}" if dot and stem else f"{clean}-{n}"
    taken.add(candidate)
    return candidate


def _client_data(client: Client) -> dict:
    advisor = client.advisor
    return {
        "number": client.number,
        "first_name": client.first_name,
        "last_name": client.last_name,
        "email": client.email,
        "phone": client.phone,
        "street": client.street,
        "postcode": client.postcode,
        "city": client.city,
        "country": client.country,
        "birth_date": client.birth_date,
        "status": client.status,
        "assets": {"amount": client.assets, "currency": client.assets_currency},
        "advisor": {"name": advisor.get_full_name() or advisor.email, "email": advisor.email} if advisor else None,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def _account_data(user) -> dict:
    from portal.accounts.two_factor import two_factor_status

    fresh = get_user_model().objects.get(pk=user.pk)
    return {
        "email": fresh.email,
        "first_name": fresh.first_name,
        "last_name": fresh.last_name,
        "mobile_phone": fresh.phone,
        "mobile_phone_verified_at": fresh.phone_verified_at,
        "language": fresh.language,
        "date_joined": fresh.date_joined,
        "last_login": fresh.last_login,
        "roles": sorted(fresh.roles),
        "two_factor_enabled": two_factor_status(user=fresh).totp_enabled,
    }


def _preferences_data(user) -> list[dict]:
    return [
        {"event": row["event"].key, "label": str(row["event"].label), **row["current"]}
        for row in notification_preference_rows(user=user)
    ]


def _notifications_data(user) -> list[dict]:
    return list(
        Notification.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values("event", "title", "body", "link_url", "created_at", "read_at")[:NOTIFICATION_LIMIT]
    )


def _sessions_data(user) -> list[dict]:
    return [
        {"device": row.device, "ip": row.ip, "signed_in_at": row.created_at, "last_active_at": row.last_seen_at}
        for row in user_session_list(user=user, current_key=None)
    ]


def _activity_data(user) -> list[dict]:
    """What the person did themselves (logins, changes), as the audit trail recorded it."""
    return list(
        AuditEvent.objects.filter(actor=user)
        .order_by("-created_at", "-id")
        .values("action", "created_at", "ip", "user_agent")[:ACTIVITY_LIMIT]
    )
