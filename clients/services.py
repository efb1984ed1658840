import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from portal.accounts.phone_verification import phone_number_normalise
from portal.accounts.roles import Role
from portal.audit.services import audit_record
from portal.core.versioned_cache import data_changed_on_commit

from . import permissions
from .models import Client, DataExport

logger = logging.getLogger(__name__)
_PERM = f"clients.{permissions.VIEW_CLIENT}"


def client_share(*, actor, client: Client, broker) -> None:
    """A firm manager lets another broker of the firm see a client; audited."""
    with transaction.atomic():
        client = _lock_for_sharing(actor, client)
        if not broker.has_role(Role.INTERMEDIARY) or broker.organisation_id != actor.organisation_id:
            raise ValidationError(_("Clients can only be shared with brokers of your own firm."))
        if broker.pk == client.advisor_id:
            raise ValidationError(_("This broker already advises the client."))
        assign_perm(_PERM, broker, client)
        audit_record(action="client.shared", actor=actor, obj=client, changes={"shared_with": broker.email})


def client_unshare(*, actor, client: Client, broker) -> None:
    with transaction.atomic():
        client = _lock_for_sharing(actor, client)
        remove_perm(_PERM, broker, client)
        audit_record(action="client.unshared", actor=actor, obj=client, changes={"unshared_from": broker.email})


def _lock_for_sharing(actor, client: Client) -> Client:
    """The client locked, if the actor may share it (checked again on the locked row)."""
    try:
        return (
            Client.objects.restrict(actor, "share")
            .select_for_update(of=("self",))
            .select_related("advisor")
            .get(pk=client.pk)
        )
    except Client.DoesNotExist:
        raise PermissionDenied from None


# --- Writes from the core system and the valuations --------------------------------------------------------

# What the core system delivers for a client besides its number (the natural key): the fields a
# feed import creates a client with and corrects on a later run.
CLIENT_IMPORT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "birth_date",
    "status",
    "advisor_id",
)
_REQUIRED_TEXT = ("first_name", "last_name")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
CENT = Decimal("0.01")


def clients_import(*, created: Sequence[Mapping[str, Any]], updated: Mapping[int, Mapping[str, Any]]) -> list[int]:
    """Write one batch of client master data from the core system: new clients, and corrections.

    `created` are records with `number` and every field of CLIENT_IMPORT_FIELDS; `updated` maps
    the primary key of a known client to those fields as they are now (all of them; the number
    does not change). Returns the new clients' primary keys, in the order of `created`.

    The contract with a batched import (the core feed calls this once per batch of 5,000 rows):

    * The caller has validated every value already (the feed checks each row and reports bad
      ones); this service checks only what it must rely on: the fields, non-empty names, the
      status, unique numbers, and that every advisor and every updated client exists. Any of
      these wrong raises ValidationError and writes nothing of the batch.
    * It runs inside the caller's transaction when there is one (as a savepoint, so a refused
      batch rolls back alone, while a file refused later rolls back every batch with it), and in
      its own transaction otherwise.
    * It writes no audit event per client: a nightly import of 50,000 clients would bury the
      trail. The caller records one event for the whole run (the feed's `feed.imported`, with the
      counts per file).
    * Bulk writes send no model signals, so it bumps the figures cache itself, after the commit
      (an advisor change moves a client between brokers' books).
    """
    _client_records_check(created, updated)
    try:
        with transaction.atomic():
            new = Client.objects.bulk_create(
                [Client(number=record["number"], **_import_values(record)) for record in created]
            )
            if updated:
                now = timezone.now()
                changed = [Client(pk=pk, updated_at=now, **_import_values(record)) for pk, record in updated.items()]
                Client.objects.bulk_update(changed, [*CLIENT_IMPORT_FIELDS, "updated_at"], batch_size=1000)
            if created or updated:
                data_changed_on_commit()
    except IntegrityError:
        raise ValidationError(_("A client number of this batch is already taken; nothing was imported.")) from None
    return [client.pk for client in new]


def _import_values(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: record[name] for name in CLIENT_IMPORT_FIELDS}


def _client_records_check(created: Sequence[Mapping[str, Any]], updated: Mapping[int, Mapping[str, Any]]) -> None:
    """Raise ValidationError for the first record clients_import cannot write; queries only advisors and clients."""
    numbers: set[str] = set()
    for record in created:
        number = record.get("number")
        _client_record_check(record, {"number", *CLIENT_IMPORT_FIELDS}, number=number)
        if not number:
            raise ValidationError(_("A new client needs a client number."))
        if number in numbers:
            raise ValidationError(_("Client number %(number)s appears twice in one batch."), params={"number": number})
        numbers.add(number)
    for pk, record in updated.items():
        _client_record_check(record, set(CLIENT_IMPORT_FIELDS), number=pk)
    advisors = {record["advisor_id"] for record in (*created, *updated.values())} - {None}
    unknown = advisors - set(get_user_model().objects.filter(pk__in=advisors).values_list("pk", flat=True))
    if unknown:
        raise ValidationError(
            _("No user with the id %(ids)s can be an advisor."), params={"ids": ", ".join(map(str, sorted(unknown)))}
        )
    missing = set(updated) - set(Client.objects.filter(pk__in=list(updated)).values_list("pk", flat=True))
    if missing:
        raise ValidationError(
            _("No client with the id %(ids)s to update."), params={"ids": ", ".join(map(str, sorted(missing)))}
        )


def _client_record_check(record: Mapping[str, Any], expected: set[str], *, number) -> None:
    if missing := expected - record.keys():
        raise ValidationError(
            _("The record of client %(number)s lacks %(fields)s."),
            params={"number": number, "fields": ", ".join(sorted(missing))},
        )
    if unknown := record.keys() - expected:
        raise ValidationError(
            _("The record of client %(number)s has unknown fields: %(fields)s."),
            params={"number": number, "fields": ", ".join(sorted(unknown))},
        )
    for name in _REQUIRED_TEXT:
        if not record[name]:
            raise ValidationError(
                _("Client %(number)s: %(field)s must not be empty."), params={"number": number, "field": name}
            )
    if record["status"] not in Client.Status.values:
        raise ValidationError(
            _("Client %(number)s: %(status)s is not a client status."),
            params={"number": number, "status": record["status"]},
        )


def client_assets_set_many(*, assets: Mapping[int, Decimal], currency: str = "EUR") -> int:
    """Store each client's total assets (the sum of their portfolios' latest values) for lists and sorting.

    A figure derived from the valuations, not part of the person's record: no audit event. The
    amounts are rounded to the cent (half up, as PostgreSQL does); clients that no longer exist are
    skipped. One transaction (inside the caller's, if any); the figures cache is bumped after the
    commit. A non-decimal or infinite amount or a currency that is not an ISO 4217 code raises
    ValidationError and changes nothing. Returns how many clients were written.
    """
    if not CURRENCY_RE.fullmatch(currency):
        raise ValidationError(_("%(currency)s is not a currency code."), params={"currency": currency})
    for pk, amount in assets.items():
        if not isinstance(amount, Decimal) or not amount.is_finite():
            raise ValidationError(
                _("The assets of client %(pk)s are not an amount: %(amount)s."), params={"pk": pk, "amount": amount}
            )
    with transaction.atomic():
        clients = list(Client.objects.filter(pk__in=list(assets)).only("pk"))
        for client in clients:
            client.assets = assets[client.pk].quantize(CENT, rounding=ROUND_HALF_UP)
            client.assets_currency = currency
        Client.objects.bulk_update(clients, ["assets", "assets_currency"], batch_size=2000)
        if clients:
            data_changed_on_commit()
    return len(clients)


def client_user_link(*, client: Client, user, actor=None, actor_label: str = "") -> bool:
    """Make `user` the client's portal login, so the client sees their own portfolios; audited.

    For the system (the demo, onboarding): it checks no actor's permission, so a view that offers
    it must check first. Linking the login a client already has changes nothing and returns False.
    A client with another login, a user without the client role, or a user who is already another
    client's login raises ValidationError and changes nothing.
    """
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        if client.user_id == user.pk:
            return False
        if client.user_id is not None:
            raise ValidationError(_("This client already has a portal login."))
        if not user.has_role(Role.CLIENT):
            raise ValidationError(_("Only a user with the end client role can be a client's portal login."))
        if Client.objects.filter(user=user).exists():
            raise ValidationError(_("This user is already the portal login of another client."))
        client.user = user
        # save() sends post_save, whose receiver bumps the figures cache (clients/signals.py).
        client.save(update_fields=["user", "updated_at"])
        audit_record(
            action="client.user_linked",
            actor=actor,
            actor_label=actor_label,
            obj=client,
            changes={"user": user.email},
        )
    return True


# --- The client's own changes (profile) ---------------------------------------------------------------------

CONTACT_FIELDS = ("email", "phone", "street", "postcode", "city", "country")
_ADDRESS_FIELDS = ("street", "postcode", "city", "country")
_POSTCODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,15}")
_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def client_contact_update(*, actor, values: Mapping[str, str]) -> dict[str, list]:
    """The end client changes their own address, contact e-mail and phone; audited with old and new values.

    `values` holds every field of CONTACT_FIELDS as typed. Any invalid value raises ValidationError
    (a message per field) and changes nothing. Returns the changes ({} when nothing changed).
    """
    cleaned = _contact_clean(values)
    with transaction.atomic():
        try:
            client = Client.objects.restrict(actor, "edit_contact").select_for_update().get()
        except (Client.DoesNotExist, Client.MultipleObjectsReturned):
            raise PermissionDenied from None
        changes = {
            name: [getattr(client, name), cleaned[name]]
            for name in CONTACT_FIELDS
            if getattr(client, name) != cleaned[name]
        }
        if not changes:
            return {}
        for name in changes:
            setattr(client, name, cleaned[name])
        # save() sends post_save, whose receiver bumps the figures cache (clients/signals.py).
        client.save(update_fields=[*changes, "updated_at"])
        audit_record(action="client.contact_updated", actor=actor, obj=client, changes=changes)
    return changes


def _contact_clean(values: Mapping[str, str]) -> dict[str, str]:
    missing = set(CONTACT_FIELDS) - values.keys()
    if missing:
        raise ValueError(f"client_contact_update needs {sorted(missing)}")
    cleaned = {name: " ".join(str(values[name] or "").split()) for name in CONTACT_FIELDS}
    errors: dict[str, list[str]] = {}

    def error(name, message):
        errors.setdefault(name, []).append(message)

    for name in CONTACT_FIELDS:
        limit = Client._meta.get_field(name).max_length
        if _CONTROL_RE.search(cleaned[name]):
            error(name, _("This field contains characters that are not allowed."))
        elif len(cleaned[name]) > limit and name != "country":  # a country gets its own message below
            error(name, _("Use at most %(limit)d characters.") % {"limit": limit})
    if cleaned["email"] and "email" not in errors:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            error("email", _("Enter a valid e-mail address."))
        cleaned["email"] = cleaned["email"].lower()
    if "phone" not in errors:
        try:
            cleaned["phone"] = phone_number_normalise(cleaned["phone"])
        except ValidationError as exc:
            error("phone", exc.messages[0])
    cleaned["country"] = cleaned["country"].upper()
    if cleaned["country"] and not _COUNTRY_RE.fullmatch(cleaned["country"]) and "country" not in errors:
        error("country", _("Enter the two-letter country code, e.g. DE."))
    if cleaned["postcode"] and not _POSTCODE_RE.fullmatch(cleaned["postcode"]) and "postcode" not in errors:
        error("postcode", _("Enter a valid postcode."))
    if any(cleaned[name] for name in _ADDRESS_FIELDS):
        for name in _ADDRESS_FIELDS:
            if not cleaned[name] and name not in errors:
                error(name, _("An address needs a street, postcode, city and country."))
    if errors:
        raise ValidationError(errors)
    return cleaned


# --- Download my data ---------------------------------------------------------------------------------------

EXPORTS_PER_DAY = 5


def data_export_request(*, actor) -> DataExport:
    """The end client asks for a copy of their data; a Celery task builds the ZIP.

    While one is being prepared, asking again returns it (nothing new is queued). At most
    EXPORTS_PER_DAY in 24 hours; more raise ValidationError. Audited.
    """
    with transaction.atomic():
        try:
            client = Client.objects.restrict(actor, "export").select_for_update().get()
        except (Client.DoesNotExist, Client.MultipleObjectsReturned):
            raise PermissionDenied from None
        pending = DataExport.objects.filter(
            user=actor, status__in=[DataExport.Status.QUEUED, DataExport.Status.BUILDING]
        )
        export = pending.first()
        if export is not None:
            return export
        now = timezone.now()
        if DataExport.objects.filter(user=actor, created_at__gt=now - timedelta(hours=24)).count() >= EXPORTS_PER_DAY:
            raise ValidationError(
                _("You have asked for your data %(count)d times in 24 hours. Please try again tomorrow."),
                code="export_limit",
                params={"count": EXPORTS_PER_DAY},
            )
        export = DataExport.objects.create(
            user=actor, client=client, token=secrets.token_hex(16), created_at=now, queued_at=now
        )
        audit_record(action="client.data_export_requested", actor=actor, obj=client, changes={"export": export.pk})
        data_export_queue_on_commit(export.pk)
    return export


def data_export_queue_on_commit(export_id: int) -> None:
    """Hand the build to Celery after the commit; a broker that is away leaves it to the sweep."""

    def queue():
        from .tasks import data_export_build

        try:
            data_export_build.delay(export_id)
        except Exception:  # any broker failure: the export stays queued and the sweep sends it again
            logger.warning("Could not queue data export %s; the sweep will.", export_id, exc_info=True)

    transaction.on_commit(queue)


def data_export_downloaded(*, actor, export: DataExport) -> None:
    """Note a download of the export (who, when, from where) in the audit trail."""
    now = timezone.now()
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk).update(downloaded_at=now)
        audit_record(
            action="client.data_export_downloaded",
            actor=actor,
            obj=export.client,
            changes={"export": export.pk, "sha256": export.sha256},
        )
