"""The monthly statement as a PDF, rendered once when the month is closed (in Celery)."""

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from portal.notifications.services import notify
from portal.pdf import pdf_from_html

from .models import Statement
from .selectors import statement_breakdown


def statement_pdf_store(*, statement_id: int) -> Statement:
    """Render and store the statement's PDF unless it exists; tell the beneficiary it is ready."""
    statement = Statement.objects.select_related("beneficiary", "firm", "prepared_by").get(pk=statement_id)
    if statement.pdf or statement.status == Statement.Status.ACCRUED:
        return statement
    beneficiary = statement.beneficiary
    with translation.override(beneficiary.language or "en"):
        html = render_to_string(
            "commissions/pdf/statement.html",
            {
                "statement": statement,
                "breakdown": statement_breakdown(statement=statement),
                "rendered_at": timezone.now(),
            },
        )
    data = pdf_from_html(html, identifier=f"pz-commission-statement-{statement.pk}".encode())
    storage = Statement.pdf.field.storage
    name = storage.save(
        Statement.pdf.field.generate_filename(statement, f"statement-{statement.pk}.pdf"), ContentFile(data)
    )
    with transaction.atomic():
        stored = Statement.objects.filter(pk=statement.pk, pdf="").update(
            pdf=name, pdf_sha256=hashlib.sha256(data).hexdigest()
        )
        if stored:
            notify(
                user=beneficiary,
                event="commissions.statement_ready",
                context={"period": statement.period, "total": statement.total, "currency": statement.currency},
                link=reverse("commissions:statement-detail", args=[statement.pk]),
                idempotency_key=f"commission-statement-ready:{statement.pk}",
            )
    if not stored:
        storage.delete(name)  # another run stored its copy first
    statement.refresh_from_db()
    return statement
