"""The profile's API keys page: list, create (shown once), rotate, revoke."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.accounts.two_factor import session_verified, user_has_second_factor
from portal.core.lists import page_of

from . import selectors, services
from .forms import ApiKeyCreateForm, ApiKeyRotateForm
from .models import ApiKey
from .permissions import can_hold_api_keys
from .scopes import scope_groups


def _key_holder(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not can_hold_api_keys(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _second_factor_redirect(request):
    """Where to prove the second factor before changing keys, coming back to the list."""
    target = "accounts:2fa-verify" if user_has_second_factor(request.user) else "accounts:2fa-setup"
    return redirect(f"{reverse(target)}?{urlencode({'next': reverse('api_keys:key-list')})}")


def _with_scope_labels(key: ApiKey) -> ApiKey:
    labels = {group.key: group.label for group in scope_groups()}
    key.scope_rows = [(labels.get(group, group), access) for group, access in key.scopes.items()]
    return key


def _list_page(request, *, form=None, status=200):
    listing = page_of(request, selectors.api_key_list(actor=request.user), per_page=25)
    page = listing["page"]
    page.object_list = [_with_scope_labels(key) for key in page.object_list]
    return render(
        request,
        "api_keys/key_list.html",
        {
            **listing,
            "form": form or ApiKeyCreateForm(),
            "rotate_form": ApiKeyRotateForm(),
            "verified": session_verified(request.user),
            "has_second_factor": user_has_second_factor(request.user),
            "states": ApiKey.State,
        },
        status=status,
    )


def _show_once(request, key: ApiKey, secret: str, *, rotated_from: ApiKey | None = None):
    return render(
        request,
        "api_keys/key_created.html",
        {"key": _with_scope_labels(key), "secret": secret, "rotated_from": rotated_from},
    )


@never_cache
@_key_holder
def key_list(request):
    return _list_page(request)


@never_cache
@require_POST
@_key_holder
def key_create(request):
    if not session_verified(request.user):
        return _second_factor_redirect(request)
    form = ApiKeyCreateForm(request.POST)
    if form.is_valid():
        try:
            key, secret = services.api_key_create(
                actor=request.user, second_factor_verified=True, **form.service_arguments()
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            return _show_once(request, key, secret)
    return _list_page(request, form=form, status=400)


@never_cache
@require_POST
@_key_holder
def key_rotate(request, key_id):
    old = selectors.access_api_key(actor=request.user, key_id=key_id)
    if not session_verified(request.user):
        return _second_factor_redirect(request)
    form = ApiKeyRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what happens to the old key."))
        return redirect("api_keys:key-list")
    try:
        key, secret = services.api_key_rotate(
            actor=request.user, second_factor_verified=True, key_id=old.pk, grace=form.cleaned_data["grace"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("api_keys:key-list")
    old.refresh_from_db()
    return _show_once(request, key, secret, rotated_from=old)


@require_POST
@_key_holder
def key_revoke(request, key_id):
    key = selectors.access_api_key(actor=request.user, key_id=key_id)
    if not session_verified(request.user):
        return _second_factor_redirect(request)
    services.api_key_revoke(actor=request.user, second_factor_verified=True, key_id=key.pk)
    messages.success(request, _("The key %(prefix)s is revoked; it no longer works.") % {"prefix": key.prefix})
    return redirect("api_keys:key-list")


_FORM_FIELDS = {"name": "name", "expires_at": "expires_on", "allowed_ips": "allowed_ips"}


def _errors_to_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(_FORM_FIELDS.get(field), messages_)
    else:
        form.add_error(None, error.messages)
