"""Signed requests that wait for the back office get their open item in the work inbox (portal.inbox).

From now on the services open and close these items; this brings requests signed before the
inbox existed into it, as `signing.inbox.signed_request_inbox_open` would have.
"""

from datetime import timedelta

from django.db import migrations
from django.urls import reverse
from django.utils import timezone

KIND = "signing.signed_request"


def _db(schema_editor) -> str:
    """Migrations run on the owner's connection (`migrate --database owner`): read and write there."""
    return schema_editor.connection.alias if schema_editor is not None else "default"


def open_items(apps, schema_editor):
    db = _db(schema_editor)
    SignatureRequest = apps.get_model("signing", "SignatureRequest")
    WorkItem = apps.get_model("inbox", "WorkItem")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _created = ContentType.objects.using(db).get_or_create(app_label="signing", model="signaturerequest")
    now = timezone.now()
    waiting = SignatureRequest.objects.using(db).filter(status="signed").select_related("recipient").order_by("pk")
    items = []
    for request in waiting.iterator(chunk_size=500):
        recipient = request.recipient
        name = f"{recipient.first_name} {recipient.last_name}".strip()
        signed_at = request.signed_at or now
        items.append(
            WorkItem(
                kind=KIND,
                content_type=content_type,
                object_id=request.pk,
                subject=f"{request.title} (SR-{request.uuid.hex[:8].upper()})"[:250],
                party=(request.recipient_label or name or recipient.email)[:200],
                state="Signed",
                url=reverse("signing:backoffice-detail", args=[request.pk]),
                opened_at=signed_at,
                due_at=signed_at + timedelta(days=2),
            )
        )
    WorkItem.objects.using(db).bulk_create(items, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("inbox", "0001_work_item"),
        ("signing", "0002_signatureevidence_client_downloaded_at"),
    ]

    operations = [migrations.RunPython(open_items, migrations.RunPython.noop)]
