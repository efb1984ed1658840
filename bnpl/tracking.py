"""Shipment tracking through Shippo, or through the built-in carrier simulator when there is no key.

    tracking_register(carrier="dhl_germany", tracking_number="00340434161094015902", metadata="order:17")
    tracking_status(carrier="dhl_germany", tracking_number="00340434161094015902")

Both return a `TrackingStatus`. With SHIPPO_API_KEY they ask Shippo with its official client
(`shippo` 3.x) at SHIPPO_API_URL: `POST /tracks` registers the number for Shippo's
`track_updated` webhooks (bnpl/tracking_webhook.py) and answers the current status; `GET
/tracks/{carrier}/{number}` reads it. Without a key the carrier simulator answers
(bnpl/tracking_simulator.py). docs/bnpl-tracking.md has the whole story.

Errors: bad input (an unknown carrier token, an empty or malformed number, metadata over 100
characters, a number Shippo refuses) is a ValidationError; Shippo not answering, answering
408/429/5xx or answering what we cannot read is `TrackingUnavailable` (a ConnectionError, so
tasks retry it); Shippo refusing our key is `TrackingRefused` (no retry helps).
"""

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
import shippo
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from shippo.models import components
from shippo.models import errors as shippo_errors

from .events import shipment_status_changed
from .models import ShipmentEvent, TrackedShipment, TrackingState
from .tracking_simulator import simulated_history

logger = logging.getLogger(__name__)

# Shippo's carrier tokens for tracking (docs.goshippo.com, "Tracking Carriers"); "shippo" is its
# test carrier, which answers the tracking numbers SHIPPO_PRE_TRANSIT, SHIPPO_TRANSIT, … with that status.
CARRIERS = frozenset(
    {
        "airterra", "apc_postal", "apg", "aramex", "asendia_us", "australia_post", "better_trucks",
        "borderguru", "boxberry", "bring", "canada_post", "cdl", "chronopost", "colissimo",
        "collect_plus", "correios_br", "correos_espana", "deutsche_post", "dhl_benelux",
        "dhl_ecommerce", "dhl_express", "dhl_germany", "dpd_de", "dpd_uk", "estafeta",
        "fastway_australia", "fedex", "globegistics", "gls_us", "gso", "hermes_uk", "axlehire",
        "la_poste", "lasership", "lso", "mondial_relay", "nippon_express", "new_zealand_post",
        "ontrac", "passport", "pcf", "pitney_bowes", "poste_italiane", "posti", "purolator",
        "royal_mail", "rr_donnelley", "shippo", "ups", "usps",
    }
)  # fmt: skip

_NUMBER_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
METADATA_MAX = 100  # Shippo keeps at most 100 characters of a track's metadata

# Shippo's status names and ours.
_FROM_SHIPPO = {
    "PRE_TRANSIT": TrackingState.PRE_TRANSIT,
    "TRANSIT": TrackingState.IN_TRANSIT,
    "DELIVERED": TrackingState.DELIVERED,
    "RETURNED": TrackingState.RETURNED,
    "FAILURE": TrackingState.FAILURE,
    "UNKNOWN": TrackingState.UNKNOWN,
}


class TrackingError(Exception):
    """Tracking could not be asked; the subclass says whether asking again may help."""


class TrackingUnavailable(TrackingError, ConnectionError):
    """Shippo did not answer, said "try later" (408, 429, 5xx) or answered what we cannot read: retry."""


class TrackingRefused(TrackingError):
    """Shippo refused our credentials (401, 403): fix SHIPPO_API_KEY, a retry will not help."""


@dataclass(frozen=True)
class TrackingEvent:
    """One status in a parcel's history."""

    status: str  # a TrackingState value
    status_details: str
    status_date: datetime | None
    location: str


@dataclass(frozen=True)
class TrackingStatus:
    """Where a parcel is: its latest status, and every status before it (oldest first)."""

    carrier: str
    tracking_number: str
    status: str  # a TrackingState value
    status_details: str
    status_date: datetime | None
    location: str
    history: tuple[TrackingEvent, ...] = ()
    metadata: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in (TrackingState.DELIVERED, TrackingState.RETURNED, TrackingState.FAILURE)


# ----- input -------------------------------------------------------------------------------------


def tracking_clean(*, carrier: str, tracking_number: str) -> tuple[str, str]:
    """The carrier token in lower case and the number without spaces; ValidationError if either is wrong."""
    carrier = (carrier or "").strip().lower()
    number = re.sub(r"\s+", "", tracking_number or "")
    errors = {}
    if carrier not in CARRIERS:
        errors["carrier"] = ValidationError(
            _("Unknown carrier %(carrier)s: use one of Shippo's carrier tokens, such as dhl_germany or ups."),
            code="unknown_carrier",
            params={"carrier": repr(carrier) if carrier else _("(empty)")},
        )
    if not number:
        errors["tracking_number"] = ValidationError(_("Enter the tracking number."), code="required")
    elif not _NUMBER_RE.match(number):
        errors["tracking_number"] = ValidationError(
            _("A tracking number has at most 100 letters, digits, hyphens and underscores."), code="invalid"
        )
    if errors:
        raise ValidationError(errors)
    return carrier, number


# ----- the two questions -------------------------------------------------------------------------


def tracking_register(*, carrier: str, tracking_number: str, metadata: str = "") -> TrackingStatus:
    """Ask the carrier (through Shippo) to follow this parcel and report to our webhook; its status now.

    Registering a number twice asks Shippo once: the second call only reads the status, because
    each Shippo registration may send its own webhooks.
    """
    carrier, number = tracking_clean(carrier=carrier, tracking_number=tracking_number)
    metadata = metadata or ""
    if len(metadata) > METADATA_MAX:
        raise ValidationError(
            {"metadata": _("Metadata has at most %(max)d characters.") % {"max": METADATA_MAX}}, code="max_length"
        )
    provider = TrackedShipment.Provider.SHIPPO if settings.SHIPPO_API_KEY else TrackedShipment.Provider.SIMULATOR
    known = TrackedShipment.objects.filter(carrier=carrier, tracking_number=number, provider=provider).first()
    if known is not None:
        return tracking_status(carrier=carrier, tracking_number=number)
    if provider == TrackedShipment.Provider.SHIPPO:
        track = _shippo_call(lambda client: client.tracking_status.create(carrier, number, metadata or None))
        status = _from_track(track)
    TrackedShipment.objects.update_or_create(
        carrier=carrier,
        tracking_number=number,
        defaults={"metadata": metadata, "provider": provider, "registered_at": timezone.now()},
    )
    if provider == TrackedShipment.Provider.SIMULATOR:
        status = tracking_status(carrier=carrier, tracking_number=number)
    return status


def tracking_status(*, carrier: str, tracking_number: str) -> TrackingStatus:
    """The parcel's status now, as Shippo (or the simulator) knows it."""
    carrier, number = tracking_clean(carrier=carrier, tracking_number=tracking_number)
    if settings.SHIPPO_API_KEY:
        return _from_track(_shippo_call(lambda client: client.tracking_status.get(number, carrier)))
    return _simulated(carrier, number)


# ----- storing what we heard ---------------------------------------------------------------------


def shipment_event_key(*, carrier: str, tracking_number: str, status: str, status_date: datetime) -> str:
    """What makes a status report the same one again (Shippo's events carry no id of their own)."""
    stamp = status_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{carrier}:{tracking_number}:{status}:{stamp}"


def shipment_event_record(
    *,
    carrier: str,
    tracking_number: str,
    status: str,
    status_details: str,
    status_date: datetime,
    location: str,
    source: str,
    payload: dict,
) -> ShipmentEvent | None:
    """Store a reported status once and tell bnpl about it; None (nothing stored, nothing sent) for a repeat.

    The signal goes out inside the same transaction (bnpl/events.py): what its receivers write
    commits with the event, and a receiver that fails undoes the event, so a redelivery can try again.
    """
    key = shipment_event_key(carrier=carrier, tracking_number=tracking_number, status=status, status_date=status_date)
    with transaction.atomic(durable=True):
        event, created = ShipmentEvent.objects.get_or_create(
            event_key=key,
            defaults={
                "carrier": carrier,
                "tracking_number": tracking_number,
                "status": status,
                "status_details": status_details[:2000],
                "status_date": status_date,
                "location": location[:200],
                "source": source,
                "payload": payload,
            },
        )
        if not created:
            return None
        shipment_status_changed.send(
            sender=ShipmentEvent,
            carrier=carrier,
            tracking_number=tracking_number,
            status=status,
            status_date=status_date,
            event=event,
        )
    return event


def tracking_refresh(*, carrier: str, tracking_number: str) -> list[ShipmentEvent]:
    """Ask for the status and store what is new in its history (for the simulator, and as a fallback
    when a webhook went missing); the events stored now, oldest first."""
    current = tracking_status(carrier=carrier, tracking_number=tracking_number)
    stored = []
    for step in current.history or (_as_event(current),):
        if step.status_date is None:
            continue  # "unknown" with no date: nothing happened yet
        event = shipment_event_record(
            carrier=current.carrier,
            tracking_number=current.tracking_number,
            status=step.status,
            status_details=step.status_details,
            status_date=step.status_date,
            location=step.location,
            source=ShipmentEvent.Source.POLL,
            payload={},
        )
        if event is not None:
            stored.append(event)
    return stored


# ----- Shippo ------------------------------------------------------------------------------------


class _TimeoutSession(requests.Session):
    """The official client sends without a timeout; every request through this session has one."""

    def __init__(self, timeout: float):
        super().__init__()
        self.timeout = timeout

    def send(self, request, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().send(request, **kwargs)


def _shippo_call(call):
    session = _TimeoutSession(settings.SHIPPO_TIMEOUT)
    client = shippo.Shippo(api_key_header=settings.SHIPPO_API_KEY, server_url=settings.SHIPPO_API_URL, client=session)
    try:
        return call(client)
    except shippo_errors.SDKError as exc:
        status = exc.status_code
        if status in (401, 403):
            raise TrackingRefused(f"Shippo refused the API key ({status}).") from exc
        if 400 <= status < 500 and status not in (408, 425, 429):
            logger.info("Shippo refused a tracking request (%s): %s", status, exc.body[:500])
            raise ValidationError(
                _("Shippo does not accept this carrier and tracking number."), code="shippo_refused"
            ) from exc
        raise TrackingUnavailable(f"Shippo answered {status}.") from exc
    except requests.RequestException as exc:
        raise TrackingUnavailable(f"Shippo unreachable: {exc!r}") from exc
    except (ValueError, AttributeError, KeyError, TypeError) as exc:  # an answer the client cannot read
        raise TrackingUnavailable(f"Shippo's answer could not be read: {exc!r}") from exc
    finally:
        session.close()


def location_text(location) -> str:
    """ "City, State ZIP, Country" from Shippo's location (an object or a dict), leaving out what is empty."""
    if location is None:
        return ""

    def part(name):
        value = location.get(name) if isinstance(location, dict) else getattr(location, name, None)
        return str(value or "").strip()

    region = " ".join(filter(None, (part("state"), part("zip"))))
    return ", ".join(filter(None, (part("city"), region, part("country"))))


def status_from_shippo(value) -> str:
    """Our TrackingState for Shippo's status name; KeyError for a name Shippo does not have."""
    return _FROM_SHIPPO[getattr(value, "value", value)]


def _event_from_shippo(status: components.TrackingStatus) -> TrackingEvent:
    return TrackingEvent(
        status=status_from_shippo(status.status),
        status_details=status.status_details or "",
        status_date=status.status_date,
        location=location_text(status.location),
    )


def _from_track(track: components.Track) -> TrackingStatus:
    history = tuple(_event_from_shippo(step) for step in track.tracking_history or ())
    if track.tracking_status is not None:
        now = _event_from_shippo(track.tracking_status)
    else:
        now = TrackingEvent(TrackingState.UNKNOWN, "", None, "")
    return TrackingStatus(
        carrier=track.carrier,
        tracking_number=track.tracking_number,
        status=now.status,
        status_details=now.status_details,
        status_date=now.status_date,
        location=now.location,
        history=history,
        metadata=track.metadata or "",
    )


# ----- the simulator -----------------------------------------------------------------------------


def _simulated(carrier: str, number: str) -> TrackingStatus:
    shipment = TrackedShipment.objects.filter(carrier=carrier, tracking_number=number).first()
    steps = (
        simulated_history(tracking_number=number, registered_at=shipment.registered_at, now=timezone.now())
        if shipment is not None
        else []
    )
    if not steps:
        return TrackingStatus(
            carrier=carrier,
            tracking_number=number,
            status=TrackingState.UNKNOWN,
            status_details="The carrier has no information about this number yet.",
            status_date=None,
            location="",
        )
    history = tuple(
        TrackingEvent(
            status=step["status"],
            status_details=step["status_details"],
            status_date=step["status_date"],
            location=step["location"],
        )
        for step in steps
    )
    latest = history[-1]
    return TrackingStatus(
        carrier=carrier,
        tracking_number=number,
        status=latest.status,
        status_details=latest.status_details,
        status_date=latest.status_date,
        location=latest.location,
        history=history,
        metadata=shipment.metadata,
    )


def _as_event(status: TrackingStatus) -> TrackingEvent:
    return TrackingEvent(status.status, status.status_details, status.status_date, status.location)
