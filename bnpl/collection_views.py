"""/bnpl/collections/: back office's collections — direct debit runs, bank statements, the
reconciliation of unmatched lines — and the decision page of a disputed order.

Bnpl staff read these pages (the collections' policies); only back office acts on them.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.core.lists import page_of

from . import collection_runs, disputes, statements
from .collection_permissions import can_manage_collections, can_view_collections
from .collections.matching import return_reason_label, unmatched_reason_label
from .dispute_state import open_disputes
from .models import BankStatement, CollectionItem, CollectionRun, DunningNotice, Instalment, Order, StatementLine


class RunPrepareForm(forms.Form):
    collection_date = forms.DateField(
        label=gettext_lazy("Collection day"), widget=forms.DateInput(attrs={"type": "date"})
    )


class StatementUploadForm(forms.Form):
    statement = forms.FileField(label=gettext_lazy("Bank statement (camt.053 or camt.054 XML)"))


class LineAssignForm(forms.Form):
    instalment = forms.TypedChoiceField(label=gettext_lazy("Instalment"), coerce=int, choices=())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=statements.NOTE_MAX)

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instalment"].choices = [
            (
                row.pk,
                _("%(reference)s · instalment %(number)s · due %(due)s · open %(open)s %(currency)s · %(shopper)s")
                % {
                    "reference": row.plan.order.reference,
                    "number": row.number,
                    "due": row.due_date.isoformat() if row.due_date else "—",
                    "open": row.amount - row.paid_amount,
                    "currency": row.plan.currency,
                    "shopper": row.plan.order.shopper.user.get_full_name() or row.plan.order.shopper.user.email,
                },
            )
            for row in candidates
        ]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Reason"), max_length=statements.NOTE_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )


def _viewer(request):
    if not can_view_collections(request.user):
        raise PermissionDenied
    return request.user


def _manager(request):
    if not can_manage_collections(request.user):
        raise PermissionDenied
    return request.user


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def collections_page(request):
    _viewer(request)
    return _collections_render(request)


def _collections_render(request, *, status: int = 200, upload_form=None, prepare_form=None):
    """The collections page, also with a refused form of it (prepare, upload) and its status."""
    runs = page_of(
        request, CollectionRun.objects.select_related("created_by").order_by("-collection_date", "-pk"), per_page=20
    )
    context = _page_context(request, runs, upload_form=upload_form, prepare_form=prepare_form)
    return render(request, "bnpl/collections.html", context, status=status)


def _page_context(request, runs, *, upload_form=None, prepare_form=None) -> dict:
    disputed_ids = list(open_disputes().values_list("object_id", flat=True)[:50])
    return {
        **runs,
        "may_manage": can_manage_collections(request.user),
        "prepare_form": prepare_form or RunPrepareForm(initial={"collection_date": timezone.localdate()}),
        "upload_form": upload_form or StatementUploadForm(),
        "statements": BankStatement.objects.select_related("imported_by").order_by("-imported_at", "-pk")[:10],
        "unmatched": StatementLine.objects.filter(outcome=StatementLine.Outcome.UNMATCHED)
        .select_related("statement")
        .order_by("pk")[:20],
        "disputed": Order.objects.filter(pk__in=disputed_ids).select_related("merchant", "shopper__user"),
        "dunning": DunningNotice.objects.select_related("instalment__plan__order", "fee").order_by("-sent_on", "-pk")[
            :10
        ],
        "demo": settings.DEBUG,
    }


@login_required
@require_POST
def collection_run_prepare_view(request):
    actor = _manager(request)
    form = RunPrepareForm(request.POST)
    if form.is_valid():
        try:
            run = collection_runs.collection_run_prepare(
                actor=actor, collection_date=form.cleaned_data["collection_date"]
            )
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            messages.success(request, _("The run of %(day)s is prepared.") % {"day": run.collection_date.isoformat()})
            return redirect("bnpl:collection-run", run.pk)
    return _collections_render(request, status=400, prepare_form=form)


@login_required
def collection_run_detail(request, run_id: int):
    # The policy scopes the object: whoever may not read collections finds nothing (404).
    run = get_object_or_404(CollectionRun.objects.restrict(request.user), pk=run_id)
    items = page_of(
        request,
        CollectionItem.objects.filter(run=run).select_related("instalment__plan__order__shopper__user", "mandate"),
        per_page=50,
    )
    return render(
        request,
        "bnpl/collection_run.html",
        {
            **items,
            "run": run,
            "may_cancel": can_manage_collections(request.user)
            and run.state != CollectionRun.State.CANCELLED
            and not run.items.exclude(state=CollectionItem.State.SENT).exists(),
            "skipped": _skipped(run),
        },
    )


def _skipped(run: CollectionRun) -> list[dict]:
    return [{**row, "reason": _(row["reason"])} for row in run.skipped]


@login_required
def collection_run_download(request, run_id: int):
    run = get_object_or_404(CollectionRun.objects.restrict(request.user), pk=run_id)
    if not run.pain008:
        raise Http404
    response = HttpResponse(bytes(run.pain008), content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def collection_run_cancel_view(request, run_id: int):
    actor = _manager(request)
    try:
        collection_runs.collection_run_cancel(actor=actor, run_id=run_id)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The run is cancelled; the day can be prepared again."))
    return redirect("bnpl:collection-run", run_id)


@login_required
@require_POST
def statement_upload(request):
    actor = _manager(request)
    form = StatementUploadForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        upload = form.cleaned_data["statement"]
        if upload.size > settings.BNPL_STATEMENT_MAX_BYTES:
            form.add_error(
                "statement",
                _("The file is larger than %(max)d MB.") % {"max": settings.BNPL_STATEMENT_MAX_BYTES // (1024 * 1024)},
            )
            status = 413
        else:
            try:
                return _imported(request, actor, upload.read(), upload.name)
            except ValidationError as exc:
                form.add_error("statement", _error_text(exc))
    return _collections_render(request, status=status, upload_form=form)


def _imported(request, actor, data: bytes, name: str):
    """Import and go to the statement; a statement that cannot be imported raises ValidationError."""
    result = statements.bank_statement_import(actor=actor, data=data, file_name=name)
    (messages.info if result.duplicate else messages.success)(request, result.message)
    return redirect("bnpl:statement", result.statement.pk)


@login_required
def statement_detail(request, statement_id: int):
    statement = get_object_or_404(BankStatement.objects.restrict(request.user), pk=statement_id)
    lines = page_of(
        request,
        StatementLine.objects.filter(statement=statement)
        .select_related("instalment__plan__order")
        .order_by("entry_number", "pk"),
        per_page=100,
    )
    for line in lines["page"]:
        line.reason_label = _line_reason(line)
    return render(request, "bnpl/statement.html", {**lines, "statement": statement})


def _line_reason(line: StatementLine) -> str:
    if line.outcome == StatementLine.Outcome.RETURNED:
        return return_reason_label(line.reason)
    if line.reason == statements.INSTALMENT_CLOSED:
        return _("The instalment was cancelled meanwhile: pay the money back.")
    return unmatched_reason_label(line.reason) if line.reason else ""


@login_required
def statement_line_page(request, line_id: int):
    line = get_object_or_404(StatementLine.objects.restrict(request.user).select_related("statement"), pk=line_id)
    candidates = statements.line_candidates(line) if line.outcome == StatementLine.Outcome.UNMATCHED else []
    assign_form = LineAssignForm(candidates=candidates)
    dismiss_form = NoteForm()
    status = 200
    if request.method == "POST":
        actor = _manager(request)
        action = request.POST.get("action")
        try:
            if action == "assign":
                assign_form = LineAssignForm(request.POST, candidates=candidates)
                if assign_form.is_valid():
                    statements.statement_line_assign(
                        actor=actor,
                        line_id=line.pk,
                        instalment_id=assign_form.cleaned_data["instalment"],
                        note=assign_form.cleaned_data["note"],
                    )
                    messages.success(request, _("The line is booked on the instalment."))
                    return redirect("bnpl:statement-line", line.pk)
            elif action == "dismiss":
                dismiss_form = NoteForm(request.POST)
                if dismiss_form.is_valid():
                    statements.statement_line_dismiss(
                        actor=actor, line_id=line.pk, note=dismiss_form.cleaned_data["note"]
                    )
                    messages.success(request, _("The line is dismissed."))
                    return redirect("bnpl:statement-line", line.pk)
            else:
                raise ValidationError(_("Choose to assign or to dismiss the line."))
        except ValidationError as exc:
            (assign_form if action == "assign" else dismiss_form).add_error(None, _error_text(exc))
        status = 400
    line.reason_label = _line_reason(line)
    return render(
        request,
        "bnpl/statement_line.html",
        {
            "line": line,
            "assign_form": assign_form,
            "dismiss_form": dismiss_form,
            "may_manage": can_manage_collections(request.user),
            "open": line.outcome == StatementLine.Outcome.UNMATCHED,
        },
        status=status,
    )


@login_required
def dispute_page(request, order_id: int):
    _viewer(request)
    order = get_object_or_404(
        Order.objects.restrict(request.user).select_related("merchant", "shopper__user"), pk=order_id
    )
    form = NoteForm()
    status = 200
    if request.method == "POST":
        actor = _manager(request)
        form = NoteForm(request.POST)
        decide = {"resume": disputes.dispute_resume, "cancel_refund": disputes.dispute_cancel_refund}.get(
            request.POST.get("decision")
        )
        if decide is None:
            form.add_error(None, _("Choose to resume the schedule or to cancel with a refund."))
        elif form.is_valid():
            try:
                decide(actor=actor, order_id=order.pk, note=form.cleaned_data["note"])
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("The dispute is decided; the shopper and the shop are told."))
                return redirect("bnpl:dispute", order.pk)
        status = 400
    instalments = Instalment.objects.filter(plan__order=order).order_by("number")
    return render(
        request,
        "bnpl/dispute.html",
        {
            "order": order,
            "instalments": instalments,
            "form": form,
            "open": open_disputes().filter(object_id=order.pk).exists(),
            "may_manage": can_manage_collections(request.user),
        },
        status=status,
    )


@login_required
def demo_statement_download(request):
    """DEBUG only: the demo's bank statement, answering the demo run (bnpl/collections_demo.py)."""
    _viewer(request)
    from .collections_demo import demo_statement

    statement = demo_statement() if settings.DEBUG else None
    if statement is None:
        raise Http404
    name, data = statement
    response = HttpResponse(data, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def demo_statement_import(request):
    """DEBUG only: import the demo's bank statement in one click."""
    actor = _manager(request)
    from .collections_demo import demo_statement

    statement = demo_statement() if settings.DEBUG else None
    if statement is None:
        raise Http404
    name, data = statement
    try:
        return _imported(request, actor, data, name)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("bnpl:collections")
