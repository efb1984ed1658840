"""Statements' four-eyes history moves into the approval engine, keeping its dates and people.

- a prepared statement gets a pending approval (its preparer is the maker, asked when it was prepared);
- an approved or paid statement gets an approved approval with the approver's decision at the time
  it was approved.
Statements without a preparer (never prepared) have no approval. Running it again adds nothing.
"""

from django.db import migrations
from django.urls import reverse

KIND = "commissions.statement"


def _db(schema_editor) -> str:
    """Migrations run on the owner's connection (`migrate --database owner`): read and write there."""
    return schema_editor.connection.alias if schema_editor is not None else "default"


def _name(user) -> str:
    return f"{user.first_name} {user.last_name}".strip() or user.email


def _snapshot(statement) -> dict:
    person = _name(statement.beneficiary)
    return {
        "subject": f"{statement.period:%Y-%m} · {person}"[:200],
        "party": (statement.firm.name if statement.firm_id else person)[:200],
        "url": reverse("commissions:statement-detail", args=[statement.pk]),
    }


def forwards(apps, schema_editor):
    db = _db(schema_editor)
    Statement = apps.get_model("commissions", "Statement")
    Approval = apps.get_model("approvals", "Approval")
    ApprovalDecision = apps.get_model("approvals", "ApprovalDecision")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.using(db).get_or_create(app_label="commissions", model="statement")
    done = set(
        Approval.objects.using(db).filter(kind=KIND, content_type=content_type).values_list("object_id", flat=True)
    )
    statements = (
        Statement.objects.using(db)
        .filter(status__in=["prepared", "approved", "paid"], prepared_by__isnull=False)
        .exclude(pk__in=done)
        .select_related("beneficiary", "firm")
    )
    for statement in statements.iterator(chunk_size=500):
        requested_at = statement.prepared_at or statement.updated_at
        approved = statement.status in ("approved", "paid") and statement.approved_by_id
        approval = Approval.objects.using(db).create(
            kind=KIND,
            content_type=content_type,
            object_id=statement.pk,
            maker_id=statement.prepared_by_id,
            amount=statement.total,
            currency=statement.currency,
            state="approved" if approved else "pending",
            approvals_required=1,
            requested_at=requested_at,
            decided_at=(statement.approved_at or requested_at) if approved else None,
            **_snapshot(statement),
        )
        if approved:
            ApprovalDecision.objects.using(db).create(
                approval=approval,
                actor_id=statement.approved_by_id,
                outcome="approve",
                at=statement.approved_at or requested_at,
            )


def backwards(apps, schema_editor):
    db = _db(schema_editor)
    Approval = apps.get_model("approvals", "Approval")
    ApprovalDecision = apps.get_model("approvals", "ApprovalDecision")
    ApprovalDecision.objects.using(db).filter(approval__kind=KIND).delete()
    Approval.objects.using(db).filter(kind=KIND).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("commissions", "0003_statement_rejection"),
        ("approvals", "0001_approvals"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
