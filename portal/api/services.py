"""Writes of API keys: create, rotate, revoke, and the last-used stamp.

Each write runs in one transaction, appends an audit event (never the secret) and, for new
secrets, tells the owner by e-mail as well: if it was not them, they learn at once. Creating,
rotating and revoking need a session verified by a second factor; the caller says whether it
has one and the service refuses otherwise, so no entry point can skip it.
"""

import ipaddress
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.notifications.services import notify

from . import scopes as scope_registry
from . import tokens
from .models import ApiKey
from .permissions import can_hold_api_keys

MAX_ACTIVE_KEYS = 20
MAX_ALLOWED_NETWORKS = 20
MAX_GRACE = timedelta(days=7)
# A key's last use is written at most this often: a busy key must not turn every call into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_key_create(
    *,
    actor,
    second_factor_verified: bool,
    name: str,
    scopes: dict,
    expires_at=None,
    allowed_ips=(),
) -> tuple[ApiKey, str]:
    """A new key for the actor; returns it with the full secret, which is shown once and never again."""
    _check_may_change(actor, second_factor_verified)
    fields = _clean_fields(name=name, scopes=scopes, expires_at=expires_at, allowed_ips=allowed_ips)
    with transaction.atomic(durable=True):
        # The owner row serialises two parallel creations, so the limit holds exactly.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        active = ApiKey.objects.filter(owner=actor, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )
        if active.count() >= MAX_ACTIVE_KEYS:
            raise ValidationError(
                _("You already have %(count)d active API keys. Revoke one you no longer need first."),
                code="too_many",
                params={"count": MAX_ACTIVE_KEYS},
            )
        key, secret = _key_insert(owner=actor, **fields)
        audit_record(action="api_key.created", actor=actor, obj=key, changes=_describe(key))
        notify(
            user=actor,
            event="security.api_key_created",
            context={"key_name": key.name, "prefix": key.prefix},
            idempotency_key=f"api-key-created:{key.pk}",
        )
    return key, secret


def api_key_rotate(*, actor, second_factor_verified: bool, key_id, grace: timedelta) -> tuple[ApiKey, str]:
    """Replace a key's secret: a successor with the same name, scopes, networks and expiry.

    The old key stops working at once (`grace` zero) or after `grace` (at most a week, and never
    later than it would have expired anyway). Returns the successor and its secret.
    """
    _check_may_change(actor, second_factor_verified)
    if not isinstance(grace, timedelta) or grace < timedelta(0) or grace > MAX_GRACE:
        raise ValidationError({"grace": _("Choose a grace period between none and seven days.")}, code="grace")
    with transaction.atomic(durable=True):
        old = ApiKey.objects.select_for_update().restrict(actor, "manage").filter(pk=key_id).first()
        if old is None:
            raise ApiKey.DoesNotExist
        now = timezone.now()
        if old.state(now) != ApiKey.State.ACTIVE:
            raise ValidationError(_("Only an active key can be rotated."), code="not_active")
        new, secret = _key_insert(
            owner=actor,
            name=old.name,
            scopes=old.scopes,
            expires_at=old.expires_at,
            allowed_ips=old.allowed_ips,
        )
        before = {"expires_at": _iso(old.expires_at), "revoked_at": None}
        old.replaced_by = new
        old.rotated_at = now
        if grace:
            old.expires_at = min(old.expires_at, now + grace) if old.expires_at else now + grace
        else:
            old.revoked_at = now
            old.revoked_by = actor
        old.save(update_fields=["replaced_by", "rotated_at", "expires_at", "revoked_at", "revoked_by"])
        audit_record(
            action="api_key.rotated",
            actor=actor,
            obj=old,
            changes={
                "successor": new.prefix,
                "grace_seconds": int(grace.total_seconds()),
                "expires_at": [before["expires_at"], _iso(old.expires_at)],
                "revoked_at": [before["revoked_at"], _iso(old.revoked_at)],
            },
        )
        audit_record(action="api_key.created", actor=actor, obj=new, changes={**_describe(new), "replaces": old.prefix})
        notify(
            user=actor,
            event="security.api_key_created",
            context={"key_name": new.name, "prefix": new.prefix, "rotated_from": old.prefix},
            idempotency_key=f"api-key-created:{new.pk}",
        )
    return new, secret


def api_key_revoke(*, actor, second_factor_verified: bool, key_id) -> ApiKey:
    """Stop a key at once. The owner revokes their own keys; back-office staff anyone's.

    Revoking a revoked key changes nothing and records nothing.
    """
    if not second_factor_verified:
        raise PermissionDenied(_("Confirm with your second factor first."))
    with transaction.atomic(durable=True):
        key = ApiKey.objects.select_for_update().restrict(actor, "revoke").filter(pk=key_id).first()
        if key is None:
            raise ApiKey.DoesNotExist
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            action="api_key.revoked",
            actor=actor,
            obj=key,
            changes={"prefix": key.prefix, "owner": key.owner_id, "revoked_at": [None, _iso(key.revoked_at)]},
        )
    return key


def api_key_touch(*, key: ApiKey, ip: str | None, now=None) -> bool:
    """Note that the key was used; writes at most once a minute per key, even under parallel calls.

    The conditional update is the guard: of two requests in the same minute only one matches.
    """
    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return False
    updated = (
        ApiKey.objects.filter(pk=key.pk)
        .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION))
        .update(last_used_at=now, last_used_ip=ip)
    )
    if updated:
        key.last_used_at, key.last_used_ip = now, ip
    return bool(updated)


def allowed_ips_parse(value) -> list[str]:
    """Addresses or networks from a list or from text (one per line, or separated by commas)."""
    if isinstance(value, str):
        value = value.replace(",", "\n").split()
    networks, errors = [], []
    for entry in value:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            errors.append(entry)
            continue
        text = str(network.network_address) if network.num_addresses == 1 else str(network)
        if text not in networks:
            networks.append(text)
    if errors:
        raise ValidationError(
            {"allowed_ips": _("Not an IP address or network: %(entries)s.") % {"entries": ", ".join(errors[:5])}},
            code="allowed_ips",
        )
    if len(networks) > MAX_ALLOWED_NETWORKS:
        raise ValidationError(
            {"allowed_ips": _("At most %(count)d addresses or networks.") % {"count": MAX_ALLOWED_NETWORKS}},
            code="allowed_ips",
        )
    return networks


# --- helpers -----------------------------------------------------------------------------


def _check_may_change(actor, second_factor_verified: bool) -> None:
    if not can_hold_api_keys(actor):
        raise PermissionDenied(_("Your role cannot hold API keys."))
    if not second_factor_verified:
        raise PermissionDenied(_("Confirm with your second factor first."))


def _clean_fields(*, name, scopes, expires_at, allowed_ips) -> dict:
    errors = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors["name"] = _("Give the key a name, e.g. the system that will use it.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    try:
        scopes = scope_registry.scopes_clean(dict(scopes or {}))
    except (ValueError, TypeError):
        errors["scopes"] = _("Choose read-only or read-write access for known resource groups.")
    else:
        if not scopes:
            errors["scopes"] = _("Choose at least one resource group the key may use.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must lie in the future.")
    try:
        networks = allowed_ips_parse(allowed_ips or [])
    except ValidationError as error:
        errors.update(error.message_dict)
        networks = []
    if errors:
        raise ValidationError(
            {field: [message] if isinstance(message, str) else message for field, message in errors.items()}
        )
    return {"name": name, "scopes": scopes, "expires_at": expires_at, "allowed_ips": networks}


def _key_insert(*, owner, name, scopes, expires_at, allowed_ips) -> tuple[ApiKey, str]:
    secret, prefix, hashed = tokens.key_generate()
    key = ApiKey.objects.create(
        owner=owner,
        name=name,
        prefix=prefix,
        hashed_key=hashed,
        scopes=scopes,
        expires_at=expires_at,
        allowed_ips=allowed_ips,
    )
    return key, secret


def _describe(key: ApiKey) -> dict:
    return {
        "name": key.name,
        "prefix": key.prefix,
        "scopes": key.scopes,
        "expires_at": _iso(key.expires_at),
        "allowed_ips": key.allowed_ips,
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None
