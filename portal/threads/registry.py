"""Which objects carry a message thread, and who may do what with it: told by the apps that own them.

An app registers one kind per model in its `AppConfig.ready()`, so the thread never imports the app
and never decides access by itself: access to a thread is access to its object.

    register_thread_kind(
        Client,
        can_read=lambda actor, client: ...,       # may see the thread at all (else: it does not exist, 404)
        can_write=lambda actor, client: ...,      # may post messages
        is_staff_side=lambda actor, client: ...,  # sees and writes internal notes; the customer side never
        participants=lambda client: [...],        # users to notify of a new message, both sides
        url=lambda client, actor: "/client/adviser/#thread",  # where `actor` reads the thread
    )

Optional: `subject(obj) -> str` names the conversation in notifications (default `str(obj)`), and
`queryset() -> QuerySet` loads the object for the endpoints with the relations the callables read.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ThreadKind:
    model: type
    can_read: Callable  # (actor, obj) -> bool
    can_write: Callable  # (actor, obj) -> bool
    is_staff_side: Callable  # (actor, obj) -> bool
    participants: Callable  # (obj) -> iterable of users
    url: Callable  # (obj, actor) -> str, a path inside the portal
    subject: Callable = str  # (obj) -> str
    queryset: Callable | None = None  # () -> QuerySet of the model

    def objects(self):
        return self.queryset() if self.queryset is not None else self.model._default_manager.all()


_kinds: dict[type, ThreadKind] = {}


def register_thread_kind(
    model, *, can_read, can_write, is_staff_side, participants, url, subject=None, queryset=None
) -> ThreadKind:
    """Give `model`'s objects a thread; registering the same model again replaces its kind (reloads, tests)."""
    kind = ThreadKind(
        model=model,
        can_read=can_read,
        can_write=can_write,
        is_staff_side=is_staff_side,
        participants=participants,
        url=url,
        subject=subject or str,
        queryset=queryset,
    )
    _kinds[model] = kind
    return kind


def thread_kind_for(model) -> ThreadKind | None:
    """The kind registered for `model` (a class or an instance's class), or None."""
    return _kinds.get(model)


def thread_kind_of(obj) -> ThreadKind:
    """The kind of `obj`'s model; an object without one is a programming error (LookupError)."""
    kind = _kinds.get(type(obj)) or _kinds.get(obj._meta.concrete_model)
    if kind is None:
        raise LookupError(f"No thread kind is registered for {type(obj).__name__}")
    return kind
