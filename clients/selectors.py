from django.http import Http404

from portal.core.versioned_cache import cached_figures

from . import permissions
from .models import Client, DataExport


def client_list(*, actor, action: str = "view"):
    """Every client the actor may see (or share, with action="share")."""
    return Client.objects.restrict(actor, action)


# What a list row shows (number, name, status, assets, the broker): lists load only these columns.
LIST_FIELDS = (
    "id",
    "number",
    "first_name",
    "last_name",
    "status",
    "assets",
    "assets_currency",
    "advisor__id",
    "advisor__first_name",
    "advisor__last_name",
    "advisor__email",
)


def client_rows(*, actor):
    """The actor's clients for a list or an export: the row's columns and the broker, one query."""
    return client_list(actor=actor).select_related("advisor").only(*LIST_FIELDS)


def access_client(*, actor, client_id, action: str = "view") -> Client:
    """The client, if the actor may reach it for `action`; otherwise it does not exist for them (404).

    The client's row is cached per data version (every change to a client bumps it) and the policy
    decides on it in Python — a broker's own and shared clients, an end client's own record — so the
    page asks the database only where the rule needs more than the row (a firm manager's firm).
    """
    try:
        client_id = int(client_id)
    except (TypeError, ValueError):
        raise Http404 from None
    client = cached_figures("client-row", (client_id,), lambda: Client.objects.filter(pk=client_id).first())
    if client is None or not permissions.clients.has(actor, client, action):
        raise Http404
    return client


def client_may_share(*, actor, client: Client) -> bool:
    """Whether the actor may share this client with the firm's brokers (the firm manager)."""
    return permissions.clients.has(actor, client, "share")


def client_shares(*, client):
    """The brokers a client is shared with (besides its advisor)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            clientuserobjectpermission__content_object=client,
            clientuserobjectpermission__permission__codename=permissions.VIEW_CLIENT,
        )
        .order_by("email")
    )


def data_export_latest(*, actor) -> DataExport | None:
    """The actor's most recent "download my data" request, whatever its state."""
    return DataExport.objects.restrict(actor, "view").order_by("-created_at", "-id").first()


def access_data_export(*, actor, export_id, action: str = "download") -> DataExport:
    """The export, if it is the actor's; anyone else's does not exist for them (404)."""
    try:
        return DataExport.objects.restrict(actor, action).select_related("client").get(pk=int(export_id))
    except (DataExport.DoesNotExist, TypeError, ValueError):
        raise Http404 from None
