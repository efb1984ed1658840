"""Reads of API keys: a user's own keys, and the key behind a presented secret."""

from django.db.models import QuerySet
from django.http import Http404

from . import tokens
from .models import ApiKey


def api_key_list(*, actor) -> QuerySet[ApiKey]:
    """The actor's own keys, newest first (revoked and expired ones stay listed as history)."""
    return ApiKey.objects.restrict(actor, "manage").select_related("replaced_by").order_by("-created_at", "-id")


def access_api_key(*, actor, key_id) -> ApiKey:
    """One of the actor's keys; anyone else's does not exist for them (404)."""
    try:
        return api_key_list(actor=actor).get(pk=key_id)
    except (ApiKey.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def api_key_from_secret(raw: str) -> ApiKey | None:
    """The key a caller presented, if the secret matches; its state is for the caller to judge.

    Not scoped to a user: this is how a request without a session finds out who it is.
    """
    prefix = tokens.key_prefix(raw)
    if prefix is None:
        return None
    # get(), not first(): the prefix is unique, and first() would order by the model's ordering,
    # which every API call then pays for in the SQL compiler and the planner.
    try:
        key = ApiKey.objects.select_related("owner", "owner__organisation").get(prefix=prefix)
    except ApiKey.DoesNotExist:
        return None
    if not tokens.key_matches(raw, key.hashed_key):
        return None
    return key
