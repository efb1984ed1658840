"""Who may see a client changed: cached figures (dashboards, counts) and shares must not outlive it."""

from django.db.models.signals import post_delete, post_save

from portal.core.versioned_cache import data_changed_on_commit

from .models import Client, ClientUserObjectPermission
from .permissions import shares_changed


def connect() -> None:
    for model in (Client, ClientUserObjectPermission):
        post_save.connect(data_changed_on_commit, sender=model, dispatch_uid=f"data-changed-save-{model.__name__}")
        post_delete.connect(data_changed_on_commit, sender=model, dispatch_uid=f"data-changed-delete-{model.__name__}")
    post_save.connect(shares_changed, sender=ClientUserObjectPermission, dispatch_uid="clients-shares-save")
    post_delete.connect(shares_changed, sender=ClientUserObjectPermission, dispatch_uid="clients-shares-delete")
