"""`Authorization: Api-Key <key>` for every API endpoint, and only in that header.

A key authenticates as its owner, so every permission check and selector applies exactly as for
the owner's session; the key's scopes then narrow what it may reach. The key is looked up on
every call (no cache), so a revoked or expired key is refused from the very next request.

The scope check runs here, at authentication, rather than in a permission class: views pick
their own permission classes, and a check that every view must remember to include is one a new
view can forget. Here a view that names no resource group is simply closed to keys.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from portal.audit.middleware import client_ip

from . import scopes, selectors, services

KEYWORD = "Api-Key"


class ScopeDenied(exceptions.PermissionDenied):
    default_code = "scope_denied"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as 'Authorization: Api-Key <key>'."))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API key.")) from None
        key = selectors.api_key_from_secret(raw)
        now = timezone.now()
        if key is None or not key.is_usable(now) or not key.owner.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API key."))
        ip = client_ip(request._request)
        if not key.ip_allowed(ip):
            raise exceptions.AuthenticationFailed(_("This API key may not be used from your address."))
        services.api_key_touch(key=key, ip=ip, now=now)

        view = (request.parser_context or {}).get("view")
        group = scopes.view_scope_group(view)
        if not scopes.scopes_allow(key.scopes, group, request.method):
            if group and key.scopes.get(group) == scopes.READ:
                raise ScopeDenied(_("This API key is read-only for this resource."))
            raise ScopeDenied(_("This API key does not give access to this resource."))

        # The owner as loaded here carries no second factor: a key proves possession of a secret,
        # not a second factor, so `session_verified()` is False and sensitive actions stay closed.
        return key.owner, key

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'
