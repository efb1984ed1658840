from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from portal.accounts.roles import Role
from portal.audit.services import audit_record

from . import permissions
from .models import Client

_PERM = f"clients.{permissions.VIEW_CLIENT}"


def client_share(*, actor, client: Client, broker) -> None:
    """A firm manager lets another broker of the firm see a client; audited."""
    with transaction.atomic():
        client = Client.objects.select_for_update(of=("self",)).select_related("advisor").get(pk=client.pk)
        if not permissions.can_manage_shares(actor, client):
            raise PermissionDenied
        if not broker.has_role(Role.INTERMEDIARY) or broker.organisation_id != actor.organisation_id:
            raise ValidationError(_("Clients can only be shared with brokers of your own firm."))
        if broker.pk == client.advisor_id:
            raise ValidationError(_("This broker already advises the client."))
        assign_perm(_PERM, broker, client)
        audit_record(action="client.shared", actor=actor, obj=client, changes={"shared_with": broker.email})


def client_unshare(*, actor, client: Client, broker) -> None:
    with transaction.atomic():
        client = Client.objects.select_for_update(of=("self",)).select_related("advisor").get(pk=client.pk)
        if not permissions.can_manage_shares(actor, client):
            raise PermissionDenied
        remove_perm(_PERM, broker, client)
        audit_record(action="client.unshared", actor=actor, obj=client, changes={"unshared_from": broker.email})
