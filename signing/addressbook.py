"""Whom an actor may ask for a signature, and which portfolios (accounts) that person holds.

signing must not import the apps that know this (the client book lives in `clients`, the
portfolios in `intermediaries`), so it asks address books, which the apps above register with
`register_address_book()` in their AppConfig.ready(): the broker workspace registers the client
book (intermediaries/addressbook.py), BNPL would register a merchant's buyers, without signing
knowing either.

A book answers with plain values (`Addressee`, `Account`); signing stores the person as a
user and the chosen portfolio as its reference and label, never a foreign model.
"""

from dataclasses import dataclass
from typing import Protocol


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


_registered: list[AddressBook] = []


def register_address_book(book: AddressBook) -> None:
    """Add a book (registering the same class again replaces it, so a reloaded app does not double it)."""
    _registered[:] = [known for known in _registered if type(known) is not type(book)]
    _registered.append(book)


def address_books() -> list[AddressBook]:
    return list(_registered)


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


# Who may write requests besides brokers: an app that sends requests from a service identity (BNPL
# sends credit agreements from its own service user) registers a test for that identity here, with
# the address book that holds the people it writes to. signing learns no more about the app than that.
_writers: list = []


def register_writer(is_writer) -> None:
    """`is_writer(actor) -> bool`; registering the same function again does not double it."""
    if is_writer not in _writers:
        _writers.append(is_writer)


def is_registered_writer(actor) -> bool:
    return any(is_writer(actor) for is_writer in _writers)
