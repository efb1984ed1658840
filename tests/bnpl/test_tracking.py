"""Tracking through the official shippo client against the loopback fake, and the carrier simulator."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bnpl import tracking
from bnpl.events import shipment_status_changed
from bnpl.models import ShipmentEvent, TrackedShipment, TrackingState
from bnpl.tracking import (
    TrackingRefused,
    TrackingUnavailable,
    tracking_refresh,
    tracking_register,
    tracking_status,
)

pytestmark = pytest.mark.django_db

CARRIER = "dhl_germany"
NUMBER = "00340434161094015902"


@pytest.fixture
def signals():
    """Every shipment_status_changed sent during the test, as (carrier, number, status, status_date)."""
    received = []

    def receiver(sender, carrier, tracking_number, status, status_date, **kwargs):
        received.append((carrier, tracking_number, status, status_date))

    shipment_status_changed.connect(receiver, dispatch_uid="test-tracking-signals")
    yield received
    shipment_status_changed.disconnect(dispatch_uid="test-tracking-signals")


# ----- Shippo (the fake) -----------------------------------------------------------------------


def test_registering_a_number_asks_shippo_with_the_key_and_keeps_the_metadata(shippo_settings):
    status = tracking_register(carrier=CARRIER, tracking_number=NUMBER, metadata="order:17")

    assert shippo_settings.registrations == [{"carrier": CARRIER, "tracking_number": NUMBER, "metadata": "order:17"}]
    assert shippo_settings.requests[0]["authorization"] == f"ShippoToken {shippo_settings.api_key}"
    assert status.carrier == CARRIER and status.tracking_number == NUMBER
    assert status.status == TrackingState.UNKNOWN and status.history == ()
    assert status.metadata == "order:17"
    shipment = TrackedShipment.objects.get()
    assert (shipment.carrier, shipment.tracking_number, shipment.provider) == (CARRIER, NUMBER, "shippo")


def test_registering_the_same_number_again_only_reads_its_status(shippo_settings):
    tracking_register(carrier=CARRIER, tracking_number=NUMBER, metadata="order:17")
    shippo_settings.set_status(CARRIER, NUMBER, "TRANSIT", city="Kassel")

    again = tracking_register(carrier=" DHL_Germany ", tracking_number="0034 0434 1610 9401 5902")

    assert len(shippo_settings.registrations) == 1
    assert [r["method"] for r in shippo_settings.requests] == ["POST", "GET"]
    assert again.status == TrackingState.IN_TRANSIT
    assert TrackedShipment.objects.count() == 1


@pytest.mark.parametrize(
    ("shippo_status", "ours"),
    [
        ("PRE_TRANSIT", TrackingState.PRE_TRANSIT),
        ("TRANSIT", TrackingState.IN_TRANSIT),
        ("DELIVERED", TrackingState.DELIVERED),
        ("RETURNED", TrackingState.RETURNED),
        ("FAILURE", TrackingState.FAILURE),
        ("UNKNOWN", TrackingState.UNKNOWN),
    ],
)
def test_each_shippo_status_reads_as_ours_with_details_date_location_and_history(shippo_settings, shippo_status, ours):
    tracking_register(carrier=CARRIER, tracking_number=NUMBER)
    first_scan = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    shippo_settings.set_status(CARRIER, NUMBER, "PRE_TRANSIT", at=first_scan, city="Leipzig", zip_code="04109")
    scanned = datetime(2026, 3, 3, 17, 40, tzinfo=UTC)
    shippo_settings.set_status(
        CARRIER, NUMBER, shippo_status, details="The carrier says so.", at=scanned, city="Kassel", zip_code="34117"
    )

    status = tracking_status(carrier=CARRIER, tracking_number=NUMBER)

    assert status.status == ours
    assert status.status_details == "The carrier says so."
    assert status.status_date == scanned
    assert status.location == "Kassel, 34117, DE"
    assert [(step.status, step.status_date) for step in status.history] == [
        (TrackingState.PRE_TRANSIT, first_scan),
        (ours, scanned),
    ]
    assert status.history[0].location == "Leipzig, 04109, DE"
    assert shippo_settings.requests[-1]["path"] == f"/tracks/{CARRIER}/{NUMBER}"


def test_shippos_test_carrier_answers_its_test_numbers(shippo_settings):
    status = tracking_register(carrier="shippo", tracking_number="SHIPPO_RETURNED")

    assert status.status == TrackingState.RETURNED
    assert status.is_final


@pytest.mark.parametrize("status_code", [500, 503, 429])
def test_shippo_failing_is_unavailable_and_registers_nothing(shippo_settings, status_code):
    shippo_settings.fail_next(status_code)

    with pytest.raises(TrackingUnavailable):
        tracking_register(carrier=CARRIER, tracking_number=NUMBER)

    assert shippo_settings.registrations == []
    assert not TrackedShipment.objects.exists()
    # It is a ConnectionError, so tasks retry it (portal.core.task_retry).
    assert issubclass(TrackingUnavailable, ConnectionError)


def test_shippo_answering_too_late_is_unavailable(shippo_settings, settings):
    settings.SHIPPO_TIMEOUT = 0.3
    shippo_settings.hang_next(seconds=3)

    with pytest.raises(TrackingUnavailable):
        tracking_status(carrier=CARRIER, tracking_number=NUMBER)


def test_shippo_dropping_the_connection_or_being_down_is_unavailable(shippo_settings):
    shippo_settings.drop_next()
    with pytest.raises(TrackingUnavailable):
        tracking_status(carrier=CARRIER, tracking_number=NUMBER)

    shippo_settings.stop()
    with pytest.raises(TrackingUnavailable):
        tracking_register(carrier=CARRIER, tracking_number=NUMBER)
    assert not TrackedShipment.objects.exists()


def test_shippo_refusing_the_key_is_refused_not_retried(shippo_settings, settings):
    settings.SHIPPO_API_KEY = "shippo_test_not_the_key"

    with pytest.raises(TrackingRefused):
        tracking_register(carrier=CARRIER, tracking_number=NUMBER)
    assert not issubclass(TrackingRefused, ConnectionError)


def test_shippo_refusing_the_number_is_a_validation_error(shippo_settings):
    shippo_settings.fail_next(400)

    with pytest.raises(ValidationError):
        tracking_register(carrier=CARRIER, tracking_number=NUMBER)
    assert not TrackedShipment.objects.exists()


@pytest.mark.parametrize(
    ("carrier", "number", "metadata", "field"),
    [
        ("dhl", NUMBER, "", "carrier"),
        ("", NUMBER, "", "carrier"),
        (CARRIER, "", "", "tracking_number"),
        (CARRIER, "   ", "", "tracking_number"),
        (CARRIER, "00340/434", "", "tracking_number"),
        (CARRIER, "9" * 101, "", "tracking_number"),
        (CARRIER, NUMBER, "x" * 101, "metadata"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(shippo_settings, carrier, number, metadata, field):
    with pytest.raises(ValidationError) as refused:
        tracking_register(carrier=carrier, tracking_number=number, metadata=metadata)

    assert field in refused.value.message_dict
    assert shippo_settings.requests == []
    assert not TrackedShipment.objects.exists()


# ----- the carrier simulator (no key) ----------------------------------------------------------


@pytest.fixture
def simulator(settings):
    settings.SHIPPO_API_KEY = ""
    settings.SHIPPO_SIMULATOR_STEP_MINUTES = 5
    return settings


def registered_minutes_ago(number: str, minutes: float) -> datetime:
    when = timezone.now() - timedelta(minutes=minutes)
    TrackedShipment.objects.filter(tracking_number=number).update(registered_at=when)
    return when.replace(microsecond=0)


def test_the_simulator_answers_without_a_key_and_moves_the_parcel_on_with_time(simulator):
    status = tracking_register(carrier=CARRIER, tracking_number=NUMBER, metadata="order:5")
    assert status.status == TrackingState.PRE_TRANSIT
    assert TrackedShipment.objects.get().provider == "simulator"

    start = registered_minutes_ago(NUMBER, 6)
    moving = tracking_status(carrier=CARRIER, tracking_number=NUMBER)
    assert moving.status == TrackingState.IN_TRANSIT
    assert moving.status_date == start + timedelta(minutes=5)
    assert [step.status for step in moving.history] == [TrackingState.PRE_TRANSIT, TrackingState.IN_TRANSIT]

    registered_minutes_ago(NUMBER, 16)
    arrived = tracking_status(carrier=CARRIER, tracking_number=NUMBER)
    assert arrived.status == TrackingState.DELIVERED
    assert arrived.status_date == start - timedelta(minutes=10) + timedelta(minutes=15)
    assert arrived.location and arrived.metadata == "order:5"


def test_the_simulator_answers_the_same_question_the_same_way(simulator):
    tracking_register(carrier=CARRIER, tracking_number=NUMBER)
    registered_minutes_ago(NUMBER, 7)

    assert tracking_status(carrier=CARRIER, tracking_number=NUMBER) == tracking_status(
        carrier=CARRIER, tracking_number=NUMBER
    )


@pytest.mark.parametrize(
    ("number", "final"),
    [("JJD0099RET", TrackingState.RETURNED), ("JJD0099FAIL", TrackingState.FAILURE), ("JJD0099", "delivered")],
)
def test_simulated_numbers_ending_ret_or_fail_come_back_or_fail(simulator, number, final):
    tracking_register(carrier=CARRIER, tracking_number=number)
    registered_minutes_ago(number, 15)

    assert tracking_status(carrier=CARRIER, tracking_number=number).status == final


def test_the_simulator_knows_nothing_of_a_number_never_registered(simulator):
    status = tracking_status(carrier=CARRIER, tracking_number=NUMBER)

    assert status.status == TrackingState.UNKNOWN
    assert status.status_date is None and status.history == ()


def test_refreshing_stores_each_new_status_once_and_signals_it(simulator, signals, monkeypatch):
    clock = [datetime(2026, 5, 4, 9, 0, 30, tzinfo=UTC)]
    monkeypatch.setattr(tracking, "timezone", SimpleNamespace(now=lambda: clock[0]))
    tracking_register(carrier=CARRIER, tracking_number=NUMBER)

    clock[0] += timedelta(minutes=6)
    first = tracking_refresh(carrier=CARRIER, tracking_number=NUMBER)
    assert [event.status for event in first] == [TrackingState.PRE_TRANSIT, TrackingState.IN_TRANSIT]
    assert tracking_refresh(carrier=CARRIER, tracking_number=NUMBER) == []

    clock[0] += timedelta(minutes=10)
    later = tracking_refresh(carrier=CARRIER, tracking_number=NUMBER)
    assert [(event.status, event.status_date) for event in later] == [
        (TrackingState.DELIVERED, datetime(2026, 5, 4, 9, 15, 30, tzinfo=UTC))
    ]
    assert [signal[2] for signal in signals] == ["pre_transit", "in_transit", "delivered"]
    assert ShipmentEvent.objects.filter(source="poll").count() == 3
