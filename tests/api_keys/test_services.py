from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.api import services, tokens
from portal.api.models import ApiKey
from portal.audit.models import AuditEvent
from portal.notifications.models import OutboxMessage

from .conftest import key_for

pytestmark = pytest.mark.django_db


def test_a_new_key_is_stored_only_as_a_hash_behind_a_visible_prefix(cast):
    key, secret = key_for(cast.broker1, {"clients": "read", "account": "write"}, name="  My   ERP ")
    prefix, _, random_part = secret.partition(".")
    assert prefix == key.prefix and prefix.startswith("pzk_") and len(prefix) == 12
    assert len(random_part) == tokens.SECRET_LENGTH  # ~238 bits from 62 symbols
    assert secret not in key.hashed_key and random_part not in key.hashed_key
    assert key.hashed_key.startswith("sha512$$")
    assert tokens.key_matches(secret, key.hashed_key)
    assert key.name == "My ERP"
    assert key.scopes == {"account": "write", "clients": "read"}


def test_creating_a_key_is_audited_without_the_secret_and_mailed_to_the_owner(cast):
    key, secret = key_for(cast.broker1)
    event = AuditEvent.objects.get(action="api_key.created", object_id=str(key.pk))
    assert event.actor == cast.broker1
    assert event.changes["prefix"] == key.prefix and event.changes["scopes"] == {"clients": "read"}
    assert secret.split(".")[1] not in str(event.changes)
    mail = OutboxMessage.objects.get(user=cast.broker1, event="security.api_key_created", channel="email")
    assert key.prefix in mail.body and secret.split(".")[1] not in mail.body


def test_every_change_needs_a_second_factor(cast):
    with pytest.raises(PermissionDenied):
        services.api_key_create(actor=cast.broker1, second_factor_verified=False, name="x", scopes={"clients": "read"})
    key, _ = key_for(cast.broker1)
    with pytest.raises(PermissionDenied):
        services.api_key_rotate(actor=cast.broker1, second_factor_verified=False, key_id=key.pk, grace=timedelta(0))
    with pytest.raises(PermissionDenied):
        services.api_key_revoke(actor=cast.broker1, second_factor_verified=False, key_id=key.pk)
    key.refresh_from_db()
    assert key.revoked_at is None and key.replaced_by is None
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "scopes": {"clients": "read"}}, "name"),
        ({"name": "x" * 101, "scopes": {"clients": "read"}}, "name"),
        ({"name": "ERP", "scopes": {}}, "scopes"),
        ({"name": "ERP", "scopes": {"clients": "admin"}}, "scopes"),
        ({"name": "ERP", "scopes": {"nuclear": "read"}}, "scopes"),
        ({"name": "ERP", "scopes": {"clients": "read"}, "allowed_ips": "10.0.0.1\nnot-an-ip"}, "allowed_ips"),
        (
            {"name": "ERP", "scopes": {"clients": "read"}, "expires_at": timezone.now() - timedelta(hours=1)},
            "expires_at",
        ),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_creates_nothing(cast, fields, field):
    with pytest.raises(ValidationError) as error:
        services.api_key_create(actor=cast.broker1, second_factor_verified=True, **fields)
    assert field in error.value.message_dict
    assert ApiKey.objects.count() == 0
    assert not AuditEvent.objects.filter(action="api_key.created").exists()


def test_roles_without_api_access_cannot_hold_keys(cast):
    for user in (cast.client1, cast.outsider):
        with pytest.raises(PermissionDenied):
            key_for(user)
    assert ApiKey.objects.count() == 0


def test_allowed_networks_are_normalised(cast):
    key, _ = key_for(cast.broker1, allowed_ips="203.0.113.7, 198.51.100.7/24\n2001:db8::/32\n203.0.113.7")
    assert key.allowed_ips == ["203.0.113.7", "198.51.100.0/24", "2001:db8::/32"]
    assert key.ip_allowed("198.51.100.200") and key.ip_allowed("2001:db8::1")
    assert not key.ip_allowed("192.0.2.1") and not key.ip_allowed(None)


def test_a_user_holds_at_most_twenty_active_keys(cast):
    for n in range(services.MAX_ACTIVE_KEYS):
        key_for(cast.broker1, name=f"k{n}")
    with pytest.raises(ValidationError):
        key_for(cast.broker1, name="one too many")
    revoked = ApiKey.objects.filter(owner=cast.broker1).first()
    services.api_key_revoke(actor=cast.broker1, second_factor_verified=True, key_id=revoked.pk)
    key_for(cast.broker1, name="room again")
    assert ApiKey.objects.filter(owner=cast.broker1).count() == services.MAX_ACTIVE_KEYS + 1


def test_rotation_without_grace_replaces_the_secret_and_stops_the_old_key_at_once(cast):
    old, old_secret = key_for(cast.broker1, {"clients": "write"}, allowed_ips="10.0.0.0/8")
    new, new_secret = services.api_key_rotate(
        actor=cast.broker1, second_factor_verified=True, key_id=old.pk, grace=timedelta(0)
    )
    old.refresh_from_db()
    assert new_secret != old_secret and new.prefix != old.prefix
    assert (new.name, new.scopes, new.allowed_ips) == (old.name, old.scopes, old.allowed_ips)
    assert old.replaced_by == new and old.revoked_at is not None and not old.is_usable()
    assert new.is_usable()
    event = AuditEvent.objects.get(action="api_key.rotated", object_id=str(old.pk))
    assert event.changes["successor"] == new.prefix and event.changes["grace_seconds"] == 0


def test_rotation_with_grace_keeps_the_old_key_until_the_grace_ends(cast):
    old, _ = key_for(cast.broker1)
    before = timezone.now()
    services.api_key_rotate(actor=cast.broker1, second_factor_verified=True, key_id=old.pk, grace=timedelta(hours=1))
    old.refresh_from_db()
    assert old.state() == ApiKey.State.ROTATING and old.is_usable()
    assert before + timedelta(minutes=59) < old.expires_at <= timezone.now() + timedelta(hours=1)
    assert not old.is_usable(now=old.expires_at)


def test_grace_never_extends_a_key_beyond_its_own_expiry(cast):
    soon = timezone.now() + timedelta(minutes=10)
    old, _ = key_for(cast.broker1, expires_at=soon)
    new, _ = services.api_key_rotate(
        actor=cast.broker1, second_factor_verified=True, key_id=old.pk, grace=timedelta(days=7)
    )
    old.refresh_from_db()
    assert old.expires_at == soon and new.expires_at == soon


def test_a_key_can_be_rotated_once_and_not_by_someone_else(cast):
    old, _ = key_for(cast.broker1)
    with pytest.raises(ApiKey.DoesNotExist):
        services.api_key_rotate(actor=cast.broker2, second_factor_verified=True, key_id=old.pk, grace=timedelta(0))
    services.api_key_rotate(actor=cast.broker1, second_factor_verified=True, key_id=old.pk, grace=timedelta(hours=1))
    with pytest.raises(ValidationError):
        services.api_key_rotate(actor=cast.broker1, second_factor_verified=True, key_id=old.pk, grace=timedelta(0))
    old.refresh_from_db()
    with pytest.raises(ValidationError):
        services.api_key_rotate(
            actor=cast.broker1, second_factor_verified=True, key_id=old.replaced_by_id, grace=timedelta(days=30)
        )
    assert ApiKey.objects.filter(owner=cast.broker1).count() == 2


def test_revoking_is_audited_once_and_only_by_the_owner_or_back_office(cast):
    key, _ = key_for(cast.broker1)
    with pytest.raises(ApiKey.DoesNotExist):
        services.api_key_revoke(actor=cast.broker2, second_factor_verified=True, key_id=key.pk)
    services.api_key_revoke(actor=cast.broker1, second_factor_verified=True, key_id=key.pk)
    services.api_key_revoke(actor=cast.broker1, second_factor_verified=True, key_id=key.pk)
    assert AuditEvent.objects.filter(action="api_key.revoked", object_id=str(key.pk)).count() == 1
    other, _ = key_for(cast.broker1, name="leaked")
    services.api_key_revoke(actor=cast.backoffice, second_factor_verified=True, key_id=other.pk)
    other.refresh_from_db()
    assert other.revoked_by == cast.backoffice and other.state() == ApiKey.State.REVOKED


def test_last_used_is_written_at_most_once_a_minute(cast):
    key, _ = key_for(cast.broker1)
    now = timezone.now()
    assert services.api_key_touch(key=key, ip="10.0.0.1", now=now)
    stale_copy = ApiKey.objects.get(pk=key.pk)
    stale_copy.last_used_at = None  # a parallel request that read the row before the first write
    assert not services.api_key_touch(key=stale_copy, ip="10.0.0.2", now=now + timedelta(seconds=30))
    assert not services.api_key_touch(key=key, ip="10.0.0.2", now=now + timedelta(seconds=59))
    key.refresh_from_db()
    assert key.last_used_at == now and key.last_used_ip == "10.0.0.1"
    assert services.api_key_touch(key=key, ip="10.0.0.3", now=now + timedelta(seconds=61))
    key.refresh_from_db()
    assert key.last_used_ip == "10.0.0.3"
