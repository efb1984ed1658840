"""The clients app's writes for other apps: the core feed's batches, the valuations' totals, portal logins."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from clients.models import Client
from clients.services import CLIENT_IMPORT_FIELDS, client_assets_set_many, client_user_link, clients_import
from portal.audit.models import AuditEvent
from portal.core import versioned_cache

pytestmark = pytest.mark.django_db


def record(number: str, advisor=None, **overrides) -> dict:
    """A client as the core feed delivers it: the number and every imported field."""
    values = {
        "number": number,
        "first_name": "Clara",
        "last_name": "Schmidt",
        "email": "clara@example.com",
        "phone": "+4915100000011",
        "street": "Lindenstraße 12",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "birth_date": date(1975, 10, 27),
        "status": Client.Status.ACTIVE,
        "advisor_id": advisor.pk if advisor else None,
    }
    return {**values, **overrides}


def fields_of(values: dict) -> dict:
    return {name: values[name] for name in CLIENT_IMPORT_FIELDS}


def snapshot() -> list:
    return list(Client.objects.order_by("pk").values_list())


def events_since(count: int) -> list[AuditEvent]:
    """The audit events written after the first `count` (the cast's own setup writes some)."""
    return list(AuditEvent.objects.order_by("pk")[count:])


def stored(client: Client) -> dict:
    return {name: getattr(client, name) for name in CLIENT_IMPORT_FIELDS}


@pytest.fixture
def known(cast):
    return Client.objects.create(number="K1", first_name="Karl", last_name="Known", advisor=cast.broker1)


# --- clients_import --------------------------------------------------------------------------------------------


def test_import_creates_the_new_clients_and_returns_their_keys_in_order(cast):
    created = [record("C1", cast.broker1), record("C2", cast.broker3, first_name="Katya", birth_date=None)]

    pks = clients_import(created=created, updated={})

    assert [Client.objects.get(pk=pk).number for pk in pks] == ["C1", "C2"]
    for pk, values in zip(pks, created, strict=True):
        assert stored(Client.objects.get(pk=pk)) == fields_of(values)
    katya = Client.objects.get(number="C2")
    assert (katya.assets, katya.assets_currency, katya.user, katya.advisor) == (Decimal(0), "EUR", None, cast.broker3)


def test_import_corrects_every_field_of_a_known_client_and_touches_it(cast, known):
    before = known.updated_at
    correction = fields_of(record("K1", cast.broker2, last_name="Neumann", city="Köln", status="inactive"))

    assert clients_import(created=[], updated={known.pk: correction}) == []

    known.refresh_from_db()
    assert stored(known) == correction
    assert known.number == "K1"
    assert known.updated_at > before


def test_import_writes_no_audit_event_per_client(cast, known):
    events = AuditEvent.objects.count()

    clients_import(created=[record("C1", cast.broker1)], updated={known.pk: fields_of(record("K1"))})

    assert events_since(events) == []  # the import that calls it records one event for its run


def test_import_bumps_the_figures_cache_now_and_after_the_commit(cast, django_capture_on_commit_callbacks):
    before = versioned_cache.data_version()

    with django_capture_on_commit_callbacks() as callbacks:
        clients_import(created=[record("C1", cast.broker1)], updated={})

    assert versioned_cache.data_version() > before
    assert versioned_cache.data_changed in callbacks


def test_an_empty_batch_changes_nothing_and_bumps_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert clients_import(created=[], updated={}) == []
    assert callbacks == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (record("C2", phone=None) | {"nickname": "x"}, "The record of client C2 has unknown fields: nickname."),
        ({k: v for k, v in record("C2").items() if k != "city"}, "The record of client C2 lacks city."),
        (record("C2", last_name=""), "Client C2: last_name must not be empty."),
        (record("C2", status="dormant"), "Client C2: dormant is not a client status."),
        (record(""), "A new client needs a client number."),
        (record("C1"), "Client number C1 appears twice in one batch."),
        (record("C2", advisor_id=987654), "No user with the id 987654 can be an advisor."),
    ],
)
def test_a_bad_record_refuses_the_whole_batch(cast, known, bad, message):
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        clients_import(created=[record("C1", cast.broker1), bad], updated={known.pk: fields_of(record("K1"))})

    assert error.value.messages == [message]
    assert snapshot() == before


def test_an_update_of_an_unknown_client_refuses_the_batch(cast, known):
    before = snapshot()

    with pytest.raises(ValidationError, match=r"No client with the id 987654 to update\."):
        clients_import(created=[record("C1")], updated={987654: fields_of(record("X"))})

    assert snapshot() == before


def test_a_number_already_taken_rolls_back_the_batch_alone_inside_the_callers_transaction(cast, known):
    before = snapshot()

    with transaction.atomic():
        with pytest.raises(ValidationError, match="A client number of this batch is already taken"):
            clients_import(created=[record("C1"), record("K1")], updated={})
        # The caller's transaction is still usable: the service rolled back only its savepoint.
        assert snapshot() == before
        clients_import(created=[record("C3")], updated={})

    assert Client.objects.filter(number__in=["C1", "C3"]).values_list("number", flat=True).get() == "C3"


# --- client_assets_set_many --------------------------------------------------------------------------------------


def test_assets_are_stored_to_the_cent_with_their_currency(cast, known, django_capture_on_commit_callbacks):
    other = Client.objects.create(number="K2", first_name="Olga", last_name="Other", assets=Decimal("5"))
    events = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks() as callbacks:
        written = client_assets_set_many(assets={known.pk: Decimal("1234.565"), other.pk: Decimal(0)}, currency="EUR")

    assert written == 2
    known.refresh_from_db()
    other.refresh_from_db()
    assert (known.assets, known.assets_currency, other.assets) == (Decimal("1234.57"), "EUR", Decimal("0.00"))
    assert versioned_cache.data_changed in callbacks
    assert events_since(events) == []  # a figure derived from the valuations, not the person's record


def test_assets_of_a_client_that_no_longer_exists_are_skipped(known):
    assert client_assets_set_many(assets={known.pk: Decimal("10.00"), 987654: Decimal("20.00")}) == 1
    known.refresh_from_db()
    assert known.assets == Decimal("10.00")


@pytest.mark.parametrize(
    ("assets", "currency", "message"),
    [
        ({"ok": Decimal("1"), "bad": 1.5}, "EUR", "The assets of client {bad} are not an amount: 1.5."),
        ({"ok": Decimal("1"), "bad": Decimal("NaN")}, "EUR", "The assets of client {bad} are not an amount: NaN."),
        ({"ok": Decimal("1")}, "euro", "euro is not a currency code."),
    ],
)
def test_bad_assets_change_no_client(cast, known, assets, currency, message):
    other = Client.objects.create(number="K2", first_name="Olga", last_name="Other")
    ids = {"ok": known.pk, "bad": other.pk}
    before = snapshot()

    with pytest.raises(ValidationError) as error:
        client_assets_set_many(assets={ids[key]: amount for key, amount in assets.items()}, currency=currency)

    assert error.value.messages == [message.format(bad=other.pk)]
    assert snapshot() == before


# --- client_user_link -----------------------------------------------------------------------------------------------


def test_a_client_gets_a_portal_login_and_the_link_is_audited(cast, known, django_capture_on_commit_callbacks):
    events = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks() as callbacks:
        assert client_user_link(client=known, user=cast.client1, actor=cast.backoffice) is True

    known.refresh_from_db()
    assert known.user == cast.client1
    (event,) = events_since(events)
    assert (event.action, event.actor, event.object_type, event.object_id, event.changes) == (
        "client.user_linked",
        cast.backoffice,
        "clients.client",
        str(known.pk),
        {"user": "client1@example.com"},
    )
    assert versioned_cache.data_changed in callbacks  # through the post_save receiver


def test_linking_the_same_login_again_changes_nothing(cast, known):
    events = AuditEvent.objects.count()
    client_user_link(client=known, user=cast.client1, actor_label="demo")

    assert client_user_link(client=known, user=cast.client1, actor_label="demo") is False

    assert [(e.action, e.actor_label) for e in events_since(events)] == [("client.user_linked", "demo")]


@pytest.mark.parametrize(
    ("setup", "user", "message"),
    [
        ("other_login", "client2", "This client already has a portal login."),
        ("none", "broker1", "Only a user with the end client role can be a client's portal login."),
        ("login_taken", "client2", "This user is already the portal login of another client."),
    ],
)
def test_a_link_that_cannot_be_made_changes_nothing(cast, known, setup, user, message):
    if setup == "other_login":
        Client.objects.filter(pk=known.pk).update(user=cast.client1)
    if setup == "login_taken":
        Client.objects.create(number="K2", first_name="Olga", last_name="Other", user=cast.client2)
    before, events = snapshot(), AuditEvent.objects.count()

    with pytest.raises(ValidationError) as error:
        client_user_link(client=known, user=getattr(cast, user))

    assert error.value.messages == [message]
    assert snapshot() == before
    assert events_since(events) == []
