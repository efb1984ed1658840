"""Statement approvals still pending get their open item in the work inbox (portal.inbox).

From now on the approvals engine opens and closes these items; this brings the approvals that
0004 created for statements prepared before the engine into the inbox, as
`portal.approvals.inbox.approval_inbox_open` would have.
"""

from django.db import migrations
from django.urls import reverse

KIND = "commissions.statement"


def _db(schema_editor) -> str:
    """Migrations run on the owner's connection (`migrate --database owner`): read and write there."""
    return schema_editor.connection.alias if schema_editor is not None else "default"


def open_items(apps, schema_editor):
    db = _db(schema_editor)
    Approval = apps.get_model("approvals", "Approval")
    WorkItem = apps.get_model("inbox", "WorkItem")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _created = ContentType.objects.using(db).get_or_create(app_label="approvals", model="approval")
    waiting = Approval.objects.using(db).filter(kind=KIND, state="pending").order_by("pk")
    items = [
        WorkItem(
            kind=KIND,
            content_type=content_type,
            object_id=approval.pk,
            subject=approval.subject[:250],
            party=approval.party[:200],
            state="Waiting for approval",
            url=reverse("approvals:approval-detail", args=[approval.pk]),
            opened_at=approval.requested_at,
            due_at=approval.due_at,
        )
        for approval in waiting.iterator(chunk_size=500)
    ]
    WorkItem.objects.using(db).bulk_create(items, batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("inbox", "0001_work_item"),
        ("commissions", "0004_statement_approvals"),
    ]

    operations = [migrations.RunPython(open_items, migrations.RunPython.noop)]
