"""Signals bnpl sends; the parts of bnpl that care (orders) connect to them in `BnplConfig.ready()`.

- `shipment_status_changed(sender=ShipmentEvent, carrier, tracking_number, status, status_date, event)`:
  a carrier reported a status we had not stored before (a Shippo `track_updated` webhook, or a
  status query that found a new one). `status` is a `TrackingState` value ("pre_transit",
  "in_transit", "delivered", "returned", "failure", "unknown"), `status_date` the carrier's
  (aware) time of the scan, `event` the stored ShipmentEvent.

It is sent INSIDE the transaction that stored the event, once per event: a receiver's writes
commit or roll back with it, and a receiver that raises undoes the event too (the webhook then
answers 500 and Shippo sends it again). Receivers that e-mail or call out do so on commit.

    from bnpl.events import shipment_status_changed

    def on_shipment(sender, carrier, tracking_number, status, status_date, **kwargs):
        ...

    shipment_status_changed.connect(on_shipment, dispatch_uid="bnpl-orders-shipment")
"""

from django.dispatch import Signal

shipment_status_changed = Signal()
