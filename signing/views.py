"""Pages: the broker's requests, the client's inbox, the back office (its list is the work inbox), the PDF check.

Every view fetches its object through a selector that takes the user, so a request that is
not the actor's answers 404 whatever the URL; writes go through the services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.roles import BROKER_ROLES, Role
from portal.core.decorators import role_required
from portal.core.files import stored_file_response
from portal.core.lists import list_page, page_of
from portal.core.uploads import UNKNOWN_KIND, UploadTooLarge

from . import addressbook, permissions, selectors, services
from .filters import SignatureRequestFilter
from .forms import (
    AttachmentForm,
    CancelForm,
    CodeForm,
    CodeRequestForm,
    DeclineForm,
    HandleForm,
    SignatureRequestForm,
    VerifyForm,
)
from .inbox import KIND as INBOX_KIND
from .models import SignatureRequest
from .pdf import signed_pdf_verify
from .validators import iban_display

PAGE_SIZE = 25
BROKERS = BROKER_ROLES
# Uploads larger than this are refused before Django reads the body.
VERIFY_MAX_BYTES = 20 * 1024 * 1024


# --- the sender's side --------------------------------------------------------------------


@role_required(*BROKERS)
@require_GET
def request_list(request):
    listing = list_page(
        request, SignatureRequestFilter, selectors.signature_request_list(actor=request.user), per_page=PAGE_SIZE
    )
    template = "signing/partials/_request_rows.html" if request.htmx else "signing/request_list.html"
    return render(request, template, listing.context, status=listing.status)


@role_required(*BROKERS)
def request_create(request):
    kind = request.GET.get("kind") or request.POST.get("kind")
    # `?recipient=<key>` preselects the person (a link from the broker's client page); the form
    # offers only the people the actor may address, so a foreign key preselects nobody.
    recipient = request.GET.get("recipient", "")
    if kind not in SignatureRequest.Kind.values:
        return render(request, "signing/request_kind.html", {"recipient": recipient})
    if _too_large(request, _attachment_budget()):
        return _upload_too_large(request)
    posted = request.method == "POST"
    form = SignatureRequestForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        actor=request.user,
        kind=kind,
        initial={"recipient": recipient} if recipient and not posted else None,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            signature_request = services.signature_request_create(
                actor=request.user,
                recipient=form.cleaned_data["recipient"],
                kind=kind,
                attachments=form.cleaned_data.get("attachments") or [],
                **form.content(),
            )
        except UploadTooLarge as exc:
            form.add_error(None, exc)
            status = 413
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Draft saved. Check the preview, then send it."))
            return redirect("signing:request-detail", request_id=signature_request.pk)
    if form.errors and status == 200:
        status = 400
    return render(
        request,
        "signing/request_form.html",
        {"form": form, "kind": kind, "kind_label": SignatureRequest.Kind(kind).label},
        status=status,
    )


@role_required(*BROKERS)
@require_GET
def request_accounts(request):
    """The portfolio options for the chosen client (htmx swaps them into the form)."""
    accounts = addressbook.account_list(actor=request.user, key=request.GET.get("recipient", ""))
    return render(request, "signing/partials/_portfolio_options.html", {"accounts": accounts})


@login_required
@require_GET
def request_detail(request, request_id):
    signature_request = selectors.access_signature_request(actor=request.user, request_id=request_id)
    can_change = permissions.requests.has(request.user, signature_request, "change")
    return render(
        request,
        "signing/request_detail.html",
        {
            "req": signature_request,
            "attachments": list(signature_request.attachments.all()),
            "history": selectors.signature_request_history(request=signature_request),
            "evidence": getattr(signature_request, "evidence", None) if signature_request.is_signed else None,
            "can_change": can_change and signature_request.is_editable,
            "attachment_form": AttachmentForm(),
            "cancel_form": CancelForm(),
            "iban": iban_display(signature_request.payee_iban),
        },
    )


@login_required
def request_edit(request, request_id):
    signature_request = _changeable(request, request_id)
    if not signature_request.is_editable:
        messages.error(request, _("This request can no longer be changed."))
        return redirect("signing:request-detail", request_id=signature_request.pk)
    form = SignatureRequestForm(
        request.POST if request.method == "POST" else None,
        actor=request.user,
        kind=signature_request.kind,
        instance=signature_request,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_request_update(
                actor=request.user,
                request_id=signature_request.pk,
                recipient=form.cleaned_data.get("recipient") or signature_request.recipient_key,
                **form.content(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("signing:request-detail", request_id=signature_request.pk)
    return render(
        request,
        "signing/request_form.html",
        {
            "form": form,
            "kind": signature_request.kind,
            "kind_label": signature_request.get_kind_display(),
            "req": signature_request,
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def request_preview(request, request_id):
    """Exactly what the client will see, in the client's language."""
    signature_request = selectors.access_signature_request(actor=request.user, request_id=request_id)
    language = signature_request.recipient.language
    with translation.override(language if language in ("en", "de", "ru") else "en"):
        client_view = render_to_string(
            "signing/partials/_client_content.html",
            _client_content_context(signature_request, preview=True),
            request=request,
        )
    return render(
        request,
        "signing/request_preview.html",
        {"req": signature_request, "client_view": client_view, "language": language},
    )


@login_required
@require_POST
def request_send(request, request_id):
    signature_request = _changeable(request, request_id)
    try:
        services.signature_request_send(actor=request.user, request_id=signature_request.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Sent to %(client)s.") % {"client": signature_request.recipient_label})
    return redirect("signing:request-detail", request_id=signature_request.pk)


@login_required
@require_POST
def request_cancel(request, request_id):
    signature_request = _changeable(request, request_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("signing:request-detail", request_id=signature_request.pk)
    try:
        services.signature_request_cancel(
            actor=request.user, request_id=signature_request.pk, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The request was cancelled."))
    return redirect("signing:request-detail", request_id=signature_request.pk)


@login_required
@require_POST
def attachment_add(request, request_id):
    signature_request = _changeable(request, request_id)
    if _too_large(request, _attachment_budget()):
        return _upload_too_large(request)
    form = AttachmentForm(request.POST, request.FILES)
    status = 302
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    else:
        try:
            services.signature_attachment_add(
                actor=request.user, request_id=signature_request.pk, upload=form.cleaned_data["file"]
            )
        except UploadTooLarge as exc:
            messages.error(request, " ".join(exc.messages))
            status = 413
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Attachment added."))
    response = redirect("signing:request-detail", request_id=signature_request.pk)
    if status == 413:
        return _upload_too_large(request, detail_url=response.url)
    return response


@login_required
@require_POST
def attachment_remove(request, request_id, attachment_id):
    signature_request = _changeable(request, request_id)
    try:
        services.signature_attachment_remove(
            actor=request.user, request_id=signature_request.pk, attachment_id=attachment_id
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Attachment removed."))
    return redirect("signing:request-detail", request_id=signature_request.pk)


# --- files, from either side ------------------------------------------------------------------


@login_required
@require_GET
def attachment_file(request, request_id, attachment_id):
    """An attachment, shown in the browser (PDF, image) or downloaded with ?download=1.

    Served as the kind its content was found to be, under a name with that kind's extension.
    """
    attachment = selectors.access_attachment(actor=request.user, request_id=request_id, attachment_id=attachment_id)
    kind = attachment.kind
    inline = not request.GET.get("download") and kind != UNKNOWN_KIND
    return _file_response(attachment.file, attachment.download_name, kind.content_type, inline=inline)


@login_required
@require_GET
def signed_pdf(request, request_id):
    signature_request = selectors.access_any_side(actor=request.user, request_id=request_id)
    evidence = getattr(signature_request, "evidence", None) if signature_request.is_signed else None
    if evidence is None or not evidence.pdf:
        raise Http404
    name = f"{signature_request.short_reference}-signed.pdf"
    response = _file_response(evidence.pdf, name, "application/pdf", inline=not request.GET.get("download"))
    if evidence.client_downloaded_at is None:
        # The signer has their copy now: the client zone stops listing it as new.
        services.signed_pdf_mark_downloaded(actor=request.user, request=signature_request)
    return response


# --- the client's side -----------------------------------------------------------------------


@role_required(Role.CLIENT)
@require_GET
def inbox(request):
    return render(
        request, "signing/inbox.html", page_of(request, selectors.inbox_list(actor=request.user), per_page=PAGE_SIZE)
    )


@login_required
@never_cache
@require_GET
def inbox_detail(request, request_id):
    signature_request = selectors.access_received_request(actor=request.user, request_id=request_id)
    signature_request = services.signature_request_mark_viewed(actor=request.user, request=signature_request)
    return render(request, "signing/inbox_detail.html", _client_page_context(request, signature_request))


@login_required
@require_POST
def code_request(request, request_id):
    signature_request = selectors.access_received_request(actor=request.user, request_id=request_id)
    form = CodeRequestForm(request.POST)
    error = None
    if not form.is_valid():
        error = _("Reload the page and try again.")
    else:
        try:
            services.signing_code_request(
                actor=request.user, request_id=signature_request.pk, content_hash=form.cleaned_data["content_hash"]
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
    if request.htmx:
        signature_request.refresh_from_db()
        context = _client_page_context(request, signature_request)
        context["code_error"] = error
        return render(request, "signing/partials/_code_panel.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect("signing:inbox-detail", request_id=signature_request.pk)


@login_required
@never_cache
@require_GET
def code_status(request, request_id):
    """The code's delivery state (htmx polls it while the SMS is on its way)."""
    signature_request = selectors.access_received_request(actor=request.user, request_id=request_id)
    state = selectors.code_state(request=signature_request, actor=request.user)
    return render(request, "signing/partials/_code_status.html", {"req": signature_request, "code": state})


@login_required
@require_POST
def sign(request, request_id):
    signature_request = selectors.access_received_request(actor=request.user, request_id=request_id)
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the 6-digit code from the SMS."))
        return redirect("signing:inbox-detail", request_id=signature_request.pk)
    try:
        services.signature_request_sign(
            actor=request.user,
            request_id=signature_request.pk,
            code=form.cleaned_data["code"],
            content_hash=form.cleaned_data["content_hash"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Signed. Thank you — your broker and our back office have it now."))
    return redirect("signing:inbox-detail", request_id=signature_request.pk)


@login_required
@require_POST
def decline(request, request_id):
    signature_request = selectors.access_received_request(actor=request.user, request_id=request_id)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tell your broker why you decline."))
        return redirect("signing:inbox-detail", request_id=signature_request.pk)
    try:
        services.signature_request_decline(
            actor=request.user, request_id=signature_request.pk, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("You declined the request. Your broker has been told."))
    return redirect("signing:inbox-detail", request_id=signature_request.pk)


def client_page_moved(request, name, **kwargs):
    """An old address of the client's pages (/signing/inbox/…): the same page in the client zone.

    Permanent, and keeping the method and body (308), so a form sent from a page loaded before the
    move still reaches its view; the page there decides who may see it.
    """
    url = reverse(f"signing:{name}", kwargs=kwargs)
    if query := request.META.get("QUERY_STRING"):
        url = f"{url}?{query}"
    return redirect(url, permanent=True, preserve_request=True)


# --- the back office -------------------------------------------------------------------------


@role_required(Role.BACKOFFICE)
@require_GET
def backoffice_inbox(request):
    """Signed requests wait in the work inbox now: the old page (and its `state` tabs) lead there.

    `state=open` (the default) is the inbox's open items of this kind; `processed`, `returned` and
    `all` were the handled ones, which the inbox lists as closed items.
    """
    query = {"kind": INBOX_KIND}
    if request.GET.get("state", "open") in ("processed", "returned", "all"):
        query["status"] = "closed"
    return redirect(f"{reverse('inbox:list')}?{urlencode(query)}")


@role_required(Role.BACKOFFICE)
@require_GET
def backoffice_detail(request, request_id):
    signature_request = selectors.access_signature_request(actor=request.user, request_id=request_id)
    if not signature_request.is_signed:
        raise Http404
    return render(
        request,
        "signing/backoffice_detail.html",
        {
            "req": signature_request,
            "attachments": list(signature_request.attachments.all()),
            "evidence": signature_request.evidence,
            "history": selectors.signature_request_history(request=signature_request),
            "form": HandleForm(),
            "iban": iban_display(signature_request.payee_iban),
        },
    )


@role_required(Role.BACKOFFICE)
@require_POST
def backoffice_handle(request, request_id):
    signature_request = selectors.access_signature_request(actor=request.user, request_id=request_id)
    form = HandleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose processed or returned."))
    else:
        try:
            services.signature_request_handle(
                actor=request.user,
                request_id=signature_request.pk,
                outcome=form.cleaned_data["outcome"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved. The broker has been told."))
    return redirect("signing:backoffice-detail", request_id=signature_request.pk)


@login_required
def verify(request):
    """Staff upload a signed PDF and learn whether it is exactly the one the portal issued."""
    if not permissions.can_verify_pdfs(request.user):
        raise PermissionDenied
    if _too_large(request, VERIFY_MAX_BYTES):
        return _upload_too_large(request)
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > VERIFY_MAX_BYTES:
            return _upload_too_large(request)
        result = signed_pdf_verify(upload.read())
    status = 400 if form.errors else 200
    return render(request, "signing/verify.html", {"form": form, "result": result}, status=status)


# --- helpers ---------------------------------------------------------------------------------


def _changeable(request, request_id) -> SignatureRequest:
    """A request the user may change: 404 if they cannot see it, 403 if they may only read it."""
    signature_request = selectors.access_signature_request(actor=request.user, request_id=request_id)
    if not permissions.requests.has(request.user, signature_request, "change"):
        raise PermissionDenied
    return signature_request


def _client_content_context(signature_request, *, preview: bool = False) -> dict:
    return {
        "req": signature_request,
        "attachments": list(signature_request.attachments.all()),
        "iban": iban_display(signature_request.payee_iban),
        "preview": preview,
    }


def _client_page_context(request, signature_request) -> dict:
    state = selectors.code_state(request=signature_request, actor=request.user)
    evidence = getattr(signature_request, "evidence", None) if signature_request.is_signed else None
    return {
        **_client_content_context(signature_request),
        "code": state,
        "code_request_form": CodeRequestForm(initial={"content_hash": signature_request.content_hash}),
        "code_form": CodeForm(initial={"content_hash": signature_request.content_hash}),
        "decline_form": DeclineForm(),
        "evidence": evidence,
    }


def _file_response(fieldfile, name: str, content_type: str, *, inline: bool) -> FileResponse:
    response = stored_file_response(fieldfile, filename=name, content_type=content_type, inline=inline)
    # Only our own bytes, shown as what they are: no scripts, no outside resources, no framing.
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'; frame-ancestors 'none'"
    )
    return response


def _attachment_budget() -> int:
    from django.conf import settings

    # One form may carry every attachment at the size limit, plus room for the fields.
    return settings.SIGNING_MAX_ATTACHMENT_BYTES * settings.SIGNING_MAX_ATTACHMENTS + 1024 * 1024


def _too_large(request, limit: int) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return request.method == "POST" and length > limit


def _upload_too_large(request, detail_url: str = "") -> HttpResponse:
    return render(request, "signing/too_large.html", {"back": detail_url or request.path}, status=413)
