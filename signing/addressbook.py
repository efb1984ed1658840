"""Whom an actor may ask for a signature, and which portfolios (accounts) that person holds.

signing must not import the apps that know this (the client book lives in `clients`, the
portfolios in `intermediaries`), so it asks address books:

- `SelectorAddressBook` is built from `settings.SIGNING_ADDRESS_BOOK`, in which the
  composition root names two selectors of those apps, the way AUTHENTICATION_BACKENDS names
  backends: `people(actor=…)` returns the records the actor may see (the client policy), each
  with `pk`, a `user` foreign key to the person's portal login and a `str()`; `accounts(client=…)`
  returns that record's portfolios, each with `number`, `name`, `currency` and `status`.
- Any app may add a book of its own with `register_address_book()` in its AppConfig.ready()
  (e.g. BNPL: a merchant's buyers), without signing knowing it.

A book answers with plain values (`Addressee`, `Account`); signing stores the person as a
user and the chosen portfolio as its reference and label, never a foreign model.
"""

import functools
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Account:
    reference: str
    label: str
    currency: str


@dataclass(frozen=True)
class Addressee:
    key: str  # the book's id for the person (the client id for the client book)
    user_id: int
    label: str


class AddressBook(Protocol):
    def addressees(self, *, actor) -> list[Addressee]: ...

    def addressee(self, *, actor, key: str) -> Addressee | None: ...

    def accounts(self, *, actor, key: str) -> list[Account]: ...


class SelectorAddressBook:
    """An address book over two selectors named in settings (see the module docstring)."""

    def __init__(self, *, people: str, accounts: str = ""):
        self._people = import_string(people)
        self._accounts = import_string(accounts) if accounts else None

    def _records(self, actor):
        return self._people(actor=actor).filter(user__isnull=False)

    def addressees(self, *, actor) -> list[Addressee]:
        return [self._addressee(record) for record in self._records(actor)]

    def addressee(self, *, actor, key: str) -> Addressee | None:
        record = self._record(actor, key)
        return self._addressee(record) if record is not None else None

    def accounts(self, *, actor, key: str) -> list[Account]:
        record = self._record(actor, key)
        if record is None or self._accounts is None:
            return []
        return [
            Account(reference=str(a.number), label=f"{a.name} ({a.number})", currency=a.currency)
            for a in self._accounts(client=record)
            if getattr(a, "status", "open") != "closed"
        ]

    def _record(self, actor, key: str):
        try:
            pk = int(key)
        except (TypeError, ValueError):
            return None
        return self._records(actor).filter(pk=pk).first()

    @staticmethod
    def _addressee(record) -> Addressee:
        return Addressee(key=str(record.pk), user_id=record.user_id, label=str(record))


_registered: list[AddressBook] = []


def register_address_book(book: AddressBook) -> None:
    _registered.append(book)


@functools.cache
def _configured() -> tuple[AddressBook, ...]:
    config = getattr(settings, "SIGNING_ADDRESS_BOOK", None)
    return (SelectorAddressBook(**config),) if config else ()


@receiver(setting_changed)
def _forget_configured(*, setting, **kwargs):
    if setting == "SIGNING_ADDRESS_BOOK":
        _configured.cache_clear()


def address_books() -> list[AddressBook]:
    return [*_configured(), *_registered]


def addressee_list(*, actor) -> list[Addressee]:
    """Everyone the actor may address, with a portal login, sorted by label."""
    people = [person for book in address_books() for person in book.addressees(actor=actor)]
    return sorted(people, key=lambda person: person.label.lower())


def addressee_get(*, actor, key: str) -> tuple[Addressee, AddressBook] | tuple[None, None]:
    """The addressee under `key` if the actor may address them, and the book that knows them."""
    for book in address_books():
        person = book.addressee(actor=actor, key=str(key))
        if person is not None:
            return person, book
    return None, None


def account_list(*, actor, key: str) -> list[Account]:
    """The accounts of one addressee the actor may address (empty for anybody else)."""
    person, book = addressee_get(actor=actor, key=key)
    return book.accounts(actor=actor, key=key) if person is not None else []
