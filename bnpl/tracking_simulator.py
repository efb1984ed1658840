"""The built-in carrier simulator: what the demo (no SHIPPO_API_KEY) hears about a parcel.

It answers from the tracking number and the time since registration only, so the same question
at the same moment always gets the same answer, and a status once reported keeps its date:

    0 minutes         pre_transit  "Shipping label created", at the shop's town
    N minutes         in_transit   "Accepted by the carrier, on its way", at the carrier's hub
    3 N minutes       delivered    "Delivered", at the shopper's town
                      returned     instead, when the number ends in "RET"
                      failure      instead, when the number ends in "FAIL"

N is SHIPPO_SIMULATOR_STEP_MINUTES (5 by default). A number that was never registered is
"unknown", as Shippo answers for a number the carrier has not seen yet.
"""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings

from .models import TrackingState

# (city, country) pairs the simulated parcels travel between; picked from the number's hash.
_TOWNS = (
    ("Berlin", "DE"),
    ("Hamburg", "DE"),
    ("Munich", "DE"),
    ("Cologne", "DE"),
    ("Frankfurt am Main", "DE"),
    ("Leipzig", "DE"),
    ("Vienna", "AT"),
    ("Zurich", "CH"),
)
_HUBS = (("Kassel", "DE"), ("Erfurt", "DE"), ("Bad Hersfeld", "DE"))

_DETAILS = {
    TrackingState.PRE_TRANSIT: "Shipping label created; the carrier has not received the parcel yet.",
    TrackingState.IN_TRANSIT: "Accepted by the carrier, on its way.",
    TrackingState.DELIVERED: "Delivered.",
    TrackingState.RETURNED: "Returned to sender: the parcel was not accepted.",
    TrackingState.FAILURE: "Delivery failed: the address could not be found.",
}


def simulated_final_status(tracking_number: str) -> str:
    number = tracking_number.upper()
    if number.endswith("RET"):
        return TrackingState.RETURNED
    if number.endswith("FAIL"):
        return TrackingState.FAILURE
    return TrackingState.DELIVERED


def simulated_history(*, tracking_number: str, registered_at: datetime, now: datetime) -> list[dict]:
    """The statuses reached by `now`, oldest first, each a dict of status, details, date, location."""
    step = timedelta(minutes=settings.SHIPPO_SIMULATOR_STEP_MINUTES)
    digest = hashlib.sha256(tracking_number.upper().encode()).digest()
    origin = _TOWNS[digest[0] % len(_TOWNS)]
    destination = _TOWNS[digest[1] % len(_TOWNS)]
    hub = _HUBS[digest[2] % len(_HUBS)]
    final = simulated_final_status(tracking_number)
    # A returned parcel ends where it started; a failed delivery where it was to go.
    final_place = origin if final == TrackingState.RETURNED else destination
    start = registered_at.replace(microsecond=0)  # carriers report whole seconds
    plan = (
        (timedelta(0), TrackingState.PRE_TRANSIT, origin),
        (step, TrackingState.IN_TRANSIT, hub),
        (step * 3, final, final_place),
    )
    return [
        {
            "status": status,
            "status_details": _DETAILS[status],
            "status_date": start + offset,
            "location": f"{place[0]}, {place[1]}",
        }
        for offset, status, place in plan
        if start + offset <= now
    ]
