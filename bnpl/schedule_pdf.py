"""The payment schedule of a plan as a PDF: attached to the schedule e-mail, and on a page for the
shopper and the shop.

The e-mail's copy is made by the outbox worker when the mail leaves (a registered attachment
renderer, portal/notifications/attachments.py), in the shopper's language; the page renders it on
request from the plan as it stands (a refund shows at once). Whoever may not see the plan gets 404.
"""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from portal.pdf import pdf_from_html

from .models import Instalment, Plan


def schedule_pdf_render(plan: Plan, *, language: str = "en") -> bytes:
    instalments = [row for row in plan.instalments.all() if row.state != Instalment.State.CANCELLED]
    with translation.override(language):
        html = render_to_string(
            "bnpl/pdf/schedule.html", {"plan": plan, "order": plan.order, "instalments": instalments}
        )
    return pdf_from_html(html, identifier=f"pz-bnpl-schedule-{plan.pk}".encode())


SCHEDULE_ATTACHMENT = "bnpl.schedule_pdf"


def schedule_attachment(plan: Plan):
    """The schedule PDF as an attachment of an outbox e-mail (made when the mail leaves)."""
    from portal.notifications.attachments import Attachment

    # The shop chooses its references; only a safe subset of their characters goes into a file name.
    reference = re.sub(r"[^\w.\-]", "-", plan.order.reference)[:80]
    return Attachment(renderer=SCHEDULE_ATTACHMENT, params={"plan_id": plan.pk}, filename=f"schedule-{reference}.pdf")


def schedule_pdf_attachment(params: dict, *, language: str) -> bytes:
    """The outbox's renderer: the plan's schedule PDF from the attachment's parameters."""
    plan = Plan.objects.select_related("order__merchant").prefetch_related("instalments").get(pk=params["plan_id"])
    return schedule_pdf_render(plan, language=language)


@login_required
def plan_schedule_pdf(request, plan_id: int):
    plan = (
        Plan.objects.restrict(request.user)
        .select_related("order__merchant")
        .prefetch_related("instalments")
        .filter(pk=plan_id)
        .first()
    )
    if plan is None:
        raise Http404
    data = schedule_pdf_render(plan, language=translation.get_language() or "en")
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="schedule-{plan.order.reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
