"""The back-office work inbox: every app's open items on one page, claimed, assigned and released here;
each item links to its app's page, where the work itself is done."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.core.errors import error_json_response, form_error_details
from portal.core.lists import csv_response, page_of

from . import permissions, registry, selectors, services
from .forms import AssignForm, InboxFilterForm

PAGE_SIZE = 25


def inbox_staff_required(view):
    """Only users who see some kind of work get through; everyone else gets 403."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not permissions.sees_inbox(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _rows(items, *, actor, colleagues) -> list[dict]:
    """What the table shows of each item, with the kind's label and who it may be assigned to."""
    now = timezone.now()
    labels = {kind.key: kind.label for kind in registry.kind_list()}
    return [
        {
            "item": item,
            "kind_label": labels.get(item.kind, item.kind),
            "overdue": item.is_overdue(now),
            "mine": item.assignee_id == actor.pk,
            # Not the one who has it; nor the actor while nobody has it (they claim it instead).
            "colleagues": [
                c
                for c in colleagues.get(item.kind, [])
                if c.pk != item.assignee_id and (item.assignee_id or c.pk != actor.pk)
            ],
        }
        for item in items
    ]


@inbox_staff_required
@require_GET
def inbox_list(request):
    form = InboxFilterForm(request.GET, actor=request.user)
    kinds = registry.kinds_for(request.user)
    if form.is_valid():
        selection = form.selection()
        items = selectors.inbox_items(actor=request.user, **selection)
        status = 200
    else:
        selection = {"status": "open"}
        items = selectors.inbox_items(actor=request.user).none()
        status = 400
    listing = page_of(request, items, per_page=PAGE_SIZE)
    colleagues = selectors.colleagues_by_kind(kinds=kinds) if selection["status"] == "open" else {}
    return render(
        request,
        "inbox/list.html",
        {
            **listing,
            "form": form,
            "rows": _rows(listing["page"], actor=request.user, colleagues=colleagues),
            "closed": selection["status"] == "closed",
            "return_to": request.get_full_path(),
        },
        status=status,
    )


@inbox_staff_required
@require_GET
def inbox_export(request):
    """The list's items as CSV, filtered exactly like the page (all pages)."""
    form = InboxFilterForm(request.GET, actor=request.user)
    if not form.is_valid():
        return error_json_response(
            code="invalid",
            message=_("The filter has invalid values."),
            status=400,
            details=form_error_details(form),
        )
    items = selectors.inbox_items(actor=request.user, **form.selection())
    labels = {kind.key: str(kind.label) for kind in registry.kind_list()}
    header = [
        _("Kind"),
        _("Subject"),
        _("Customer or partner"),
        _("Queue"),
        _("State"),
        _("Opened"),
        _("Due"),
        _("Assignee"),
        _("Closed"),
        _("Link"),
    ]

    def stamp(value):
        return value.isoformat(timespec="seconds") if value else ""

    return csv_response(
        filename="work-inbox.csv",
        header=header,
        rows=(
            [
                labels.get(item.kind, item.kind),
                item.subject,
                item.party,
                item.queue,
                _(item.state) if item.state else "",
                stamp(item.opened_at),
                stamp(item.due_at),
                item.assignee.email if item.assignee_id else "",
                stamp(item.closed_at),
                request.build_absolute_uri(item.url),
            ]
            for item in items.iterator(chunk_size=500)
        ),
    )


def _answer(request, item_id, *, done: str, act):
    """Run `act()`; answer an htmx request with the item's row, any other with the list it came from."""
    error = ""
    try:
        act()
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx:
        item = selectors.access_work_item(actor=request.user, item_id=item_id)
        kinds = [kind for kind in registry.kinds_for(request.user) if kind.key == item.kind]
        colleagues = selectors.colleagues_by_kind(kinds=kinds)
        return render(
            request,
            "inbox/partials/_item.html",
            {
                "row": _rows([item], actor=request.user, colleagues=colleagues)[0],
                "error": error,
                "notice": "" if error else done,
                "return_to": request.POST.get("next", ""),
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("inbox:list")


@inbox_staff_required
@require_POST
def item_claim(request, item_id):
    return _answer(
        request,
        item_id,
        done=_("You have the item now."),
        act=lambda: services.work_item_claim(actor=request.user, item_id=item_id),
    )


@inbox_staff_required
@require_POST
def item_assign(request, item_id):
    form = AssignForm(request.POST)

    def act():
        if not form.is_valid():
            raise ValidationError(form.errors["assignee"])
        services.work_item_assign(actor=request.user, item_id=item_id, assignee_id=form.cleaned_data["assignee"])

    return _answer(request, item_id, done=_("Assigned."), act=act)


@inbox_staff_required
@require_POST
def item_release(request, item_id):
    return _answer(
        request,
        item_id,
        done=_("Released: the item waits for anyone now."),
        act=lambda: services.work_item_release(actor=request.user, item_id=item_id),
    )
