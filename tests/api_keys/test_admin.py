import pytest
from django.urls import reverse

from portal.api.models import ApiKey
from portal.api.roles import backoffice_permissions_grant
from portal.audit.models import AuditEvent

from .conftest import key_for

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:portal_api_apikey_changelist")


def test_back_office_lists_every_key_without_any_secret(cast, login_as):
    backoffice_permissions_grant()
    key, secret = key_for(cast.broker1)
    html = login_as(cast.backoffice).get(CHANGELIST).content.decode()
    assert key.prefix in html and secret.split(".")[1] not in html and key.hashed_key not in html


def test_back_office_revokes_a_leaked_key_from_admin_and_it_is_audited(cast, login_as):
    backoffice_permissions_grant()
    key, _ = key_for(cast.broker1)
    response = login_as(cast.backoffice).post(
        CHANGELIST, {"action": "revoke_selected", "_selected_action": [key.pk]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_by == cast.backoffice
    assert AuditEvent.objects.filter(action="api_key.revoked", actor=cast.backoffice).count() == 1


def test_keys_cannot_be_added_or_edited_in_admin(cast, login_as):
    key, _ = key_for(cast.broker1)
    client = login_as(cast.admin)
    assert client.get(reverse("admin:portal_api_apikey_add")).status_code == 403
    client.post(reverse("admin:portal_api_apikey_change", args=[key.pk]), {"name": "hijacked", "scopes": "{}"})
    key.refresh_from_db()
    assert key.name == "ERP" and ApiKey.objects.count() == 1


def test_a_broker_cannot_reach_the_key_admin(cast, login_as):
    key_for(cast.broker1)
    assert login_as(cast.broker1).get(CHANGELIST).status_code == 302
