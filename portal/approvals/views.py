"""Approval pages: the list of what I may see or decide (and its CSV), one case with its decisions.

Every page fetches through the selectors (the policy); every decision goes through the services,
which refuse the maker and a second decision whatever the page showed. A forged POST therefore
changes nothing: the buttons are only hidden as a courtesy.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.two_factor import second_factor_state, session_verified
from portal.core.lists import csv_response, filter_error_response, filtered, list_page

from . import selectors, services
from .columns import export_header, export_row
from .filters import ApprovalFilter
from .forms import ApproveForm, RejectForm
from .registry import approval_kind

PAGE_SIZE = 25


@login_required
@require_GET
def approval_list_view(request):
    rows = selectors.approval_list(actor=request.user)
    listing = list_page(request, ApprovalFilter, rows, per_page=PAGE_SIZE, actor=request.user)
    template = "approvals/partials/_approval_rows.html" if request.htmx else "approvals/approval_list.html"
    return render(request, template, listing.context, status=listing.status)


@login_required
@require_GET
def approval_list_export(request):
    export = filtered(request, ApprovalFilter, selectors.approval_list(actor=request.user), actor=request.user)
    if not export.is_valid():
        return filter_error_response(export)
    return csv_response(
        filename="approvals.csv",
        header=export_header(),
        rows=(export_row(approval) for approval in export.qs.iterator(chunk_size=500)),
    )


@login_required
@require_GET
def approval_detail(request, approval_id):
    approval = selectors.access_approval(actor=request.user, approval_id=approval_id)
    return _detail(request, approval, ApproveForm(), RejectForm())


def _detail(request, approval, approve_form, reject_form, status=200):
    try:
        policy = approval_kind(approval.kind)
    except LookupError:
        policy = None
    refusal = selectors.decision_refusal(actor=request.user, approval=approval)
    return render(
        request,
        "approvals/approval_detail.html",
        {
            "approval": approval,
            "policy": policy,
            "decisions": list(approval.decisions.all()),
            "can_decide": not refusal,
            "refusal": refusal,
            "can_withdraw": approval.is_pending and approval.maker_id == request.user.pk,
            "second_factor": second_factor_state(request.user) if policy and policy.second_factor else "",
            "approve_form": approve_form,
            "reject_form": reject_form,
        },
        status=status,
    )


@login_required
@require_POST
def approval_approve_view(request, approval_id):
    approval = selectors.access_approval(actor=request.user, approval_id=approval_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _detail(request, approval, form, RejectForm(), status=400)
    try:
        services.approval_approve(
            actor=request.user,
            approval_id=approval.pk,
            second_factor_verified=session_verified(request.user),
            reason=form.cleaned_data["reason"],
        )
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, approval, error)
    messages.success(request, _("Approved."))
    return redirect("approvals:approval-detail", approval_id=approval.pk)


@login_required
@require_POST
def approval_reject_view(request, approval_id):
    approval = selectors.access_approval(actor=request.user, approval_id=approval_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, approval, ApproveForm(), form, status=400)
    try:
        services.approval_reject(
            actor=request.user,
            approval_id=approval.pk,
            reason=form.cleaned_data["reason"],
            second_factor_verified=session_verified(request.user),
        )
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, approval, error)
    messages.success(request, _("Rejected. The person who asked has been told."))
    return redirect("approvals:approval-detail", approval_id=approval.pk)


@login_required
@require_POST
def approval_withdraw_view(request, approval_id):
    approval = selectors.access_approval(actor=request.user, approval_id=approval_id)
    try:
        services.approval_withdraw(actor=request.user, approval_id=approval.pk)
    except (ValidationError, PermissionDenied) as error:
        return _refused(request, approval, error)
    messages.success(request, _("Withdrawn."))
    return redirect("approvals:approval-detail", approval_id=approval.pk)


def _refused(request, approval, error):
    """A refused decision: said on the page, answered 403 (not allowed) or 400 (not possible now)."""
    messages.error(request, " ".join(getattr(error, "messages", None) or [str(error) or _("Not allowed.")]))
    approval = selectors.access_approval(actor=request.user, approval_id=approval.pk)
    status = 403 if isinstance(error, PermissionDenied) else 400
    return _detail(request, approval, ApproveForm(), RejectForm(), status=status)
