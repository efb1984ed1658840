"""Who is acting, from where, in which request: set by middleware, read by the audit service."""

import contextvars
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any


@dataclass
class RequestContext:
    """Where a change comes from. The address and the browser are read only when an event needs them."""

    request_id: str
    request: Any = None

    @cached_property
    def ip(self) -> str | None:
        from .middleware import client_ip  # the same rule for audit and API key address checks

        return client_ip(self.request) if self.request is not None else None

    @cached_property
    def user_agent(self) -> str:
        return self.request.META.get("HTTP_USER_AGENT", "")[:400] if self.request is not None else ""

    @property
    def user(self):
        """The logged-in user of the request, read late: authentication runs after this is bound."""
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("portal_request", default=None)
_acting: contextvars.ContextVar[Any] = contextvars.ContextVar("portal_acting_user", default=None)


@contextmanager
def acting_as(user):
    """Name the actor for changes made inside the block by code that cannot pass it (signals)."""
    token = _acting.set(user)
    try:
        yield
    finally:
        _acting.reset(token)


def current_actor():
    """Who is making the change now: an explicit `acting_as`, else the request's user."""
    actor = _acting.get()
    if actor is not None:
        return actor
    ctx = _current.get()
    return ctx.user if ctx else None


def current() -> RequestContext | None:
    return _current.get()


def bind(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return secrets.token_hex(16)
