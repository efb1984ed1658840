"""Signature requests a client signs with a one-time SMS code bound to the exact content.

A broker (or firm manager, or another app through the services) writes a request for one
person: a fund transfer, a product subscription or a general document, with attachments.
The client reads it in the client zone, asks for a code, and signs; the signed request,
an evidence record and a signed PDF go to the back office. See docs/signing.md.

Layers: `signing` sits beside `clients` and imports neither it nor any app above it. It
addresses a portal user, never a model of another app:

- whom an actor may address, and which portfolios (accounts) that person holds, comes from
  address books (`signing.addressbook`) that the apps above register (the broker workspace
  registers the client book, `intermediaries/addressbook.py`);
- the request stores the chosen portfolio only as a reference and a label (number and name),
  as the book supplied them, so the content is self-contained and hashable;
- apps above learn the outcome from the signals in `signing.events` (`request_signed`, …),
  carrying the request's `origin` and `external_reference` that they set when creating it.
"""
