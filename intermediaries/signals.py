"""Single-row writes (admin, shell) change what the workspace shows: cached figures must not outlive them.

Only the models a person edits row by row are connected. The feed import and the revaluations
write in bulk and bump the version themselves; a receiver on the derived tables (valuations,
holdings, allocations, books) would make every bulk delete fetch its rows first.
"""

from django.db.models.signals import post_delete, post_save

from portal.core.versioned_cache import data_changed_on_commit

from .models import FxRate, Instrument, Portfolio, Price, Transaction

EDITED_MODELS = (Instrument, Price, FxRate, Portfolio, Transaction)


def connect() -> None:
    for model in EDITED_MODELS:
        post_save.connect(data_changed_on_commit, sender=model, dispatch_uid=f"data-changed-save-{model.__name__}")
        post_delete.connect(data_changed_on_commit, sender=model, dispatch_uid=f"data-changed-delete-{model.__name__}")
