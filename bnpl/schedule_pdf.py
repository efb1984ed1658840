"""The payment schedule of a plan as a PDF, for the shopper (linked from the schedule e-mail) and the shop.

The outbox sends no attachments, so the schedule e-mail links here; the PDF is rendered on request
from the plan as it stands (a refund shows at once). Whoever may not see the plan gets 404.
"""

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
