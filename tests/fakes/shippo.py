"""A loopback fake of Shippo's tracking API, for the official `shippo` client to talk to.

    fake = FakeShippo().start()
    settings.SHIPPO_API_KEY, settings.SHIPPO_API_URL = fake.api_key, fake.base_url
    fake.set_status("dhl_germany", "0034…", "TRANSIT", details="Arrived at the hub", city="Kassel")
    fake.fail_next(500, times=2)     # then answers again
    fake.hang_next(seconds=3)        # answers too late (longer than the client waits)
    fake.drop_next()                 # closes the connection without an answer
    fake.track_updated_payload("dhl_germany", "0034…")   # the body of Shippo's webhook for it
    fake.send_track_updated(url, "dhl_germany", "0034…") # POSTs that webhook to `url`
    fake.tracks[("dhl_germany", "0034…")]                # what the fake holds
    fake.registrations                                    # every POST /tracks it accepted

It answers what the client calls for tracking: `POST /tracks` (or `/tracks/`) with carrier,
tracking_number and metadata in JSON (the client) or as a form (Shippo's curl examples), which
registers the number and answers its Track object; and `GET /tracks/{carrier}/{tracking_number}`.
Both need `Authorization: ShippoToken <api_key>` (401 otherwise) and answer 200 with the Track
shape of Shippo's API (carrier, tracking_number, eta, servicelevel, metadata, tracking_status with
status, status_details, status_date, substatus and location, tracking_history oldest first,
transaction, messages). A number the fake has not been told about is UNKNOWN, as Shippo answers for
a number its carrier has not seen; Shippo's test carrier "shippo" answers the numbers
SHIPPO_PRE_TRANSIT, SHIPPO_TRANSIT, SHIPPO_DELIVERED, SHIPPO_RETURNED, SHIPPO_FAILURE and
SHIPPO_UNKNOWN with that status, as its test mode does.

Webhooks are signed the way Shippo's HMAC option signs them when `hmac_secret` is set:
`Shippo-Auth-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
"""

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlsplit

from .loopback import LoopbackFake, QuietHandler

STATUSES = ("PRE_TRANSIT", "TRANSIT", "DELIVERED", "RETURNED", "FAILURE", "UNKNOWN")
_TRACK_PATH = re.compile(r"^/tracks/(?P<carrier>[^/]+)/(?P<number>[^/]+)/?$")
_CARRIER_RE = re.compile(r"^[a-z0-9_]{1,50}$")

_SUBSTATUS = {
    "PRE_TRANSIT": ("information_received", "Information about the package received.", False),
    "TRANSIT": ("package_departed", "Package has departed from an intermediate location.", False),
    "DELIVERED": ("delivered", "Package has been delivered.", False),
    "RETURNED": ("return_to_sender", "Package is being returned to sender.", True),
    "FAILURE": ("address_issue", "Address information is incorrect.", True),
    "UNKNOWN": ("other", "Package is in transit.", False),
}


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shippo_signature(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """The `Shippo-Auth-Signature` header value for `body`, as Shippo's HMAC option computes it."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


class FakeShippo(LoopbackFake):
    name = "fake-shippo"

    def __init__(self, *, api_key: str | None = None, hmac_secret: str = "", port: int = 0):
        super().__init__(port=port)
        self.api_key = api_key or "shippo_test_" + secrets.token_hex(20)
        self.hmac_secret = hmac_secret
        self.tracks: dict[tuple[str, str], dict] = {}
        self.registrations: list[dict] = []

    # ----- control -------------------------------------------------------------------------

    def drop_next(self, *, times: int = 1) -> None:
        """Close the next connection(s) without an answer."""
        with self._lock:
            self._plan += [("drop", None)] * times

    def set_status(
        self,
        carrier: str,
        tracking_number: str,
        status: str,
        *,
        details: str = "",
        at: datetime | None = None,
        city: str = "Berlin",
        country: str = "DE",
        zip_code: str = "",
        state: str = "",
    ) -> dict:
        """The carrier scanned the parcel: `status` (Shippo's name) becomes current and joins the history."""
        if status not in STATUSES:
            raise ValueError(f"Shippo has no status {status!r}")
        with self._lock:
            track = self._track(carrier, tracking_number)
            entry = _status_entry(status, details, at or datetime.now(UTC), city, country, zip_code, state)
            track["tracking_history"].append(entry)
            track["tracking_status"] = entry
            return json.loads(json.dumps(track))

    def track(self, carrier: str, tracking_number: str) -> dict:
        """The Track object as Shippo answers it now (a copy)."""
        with self._lock:
            return json.loads(json.dumps(self._track(carrier, tracking_number)))

    def track_updated_payload(self, carrier: str, tracking_number: str, *, test: bool = False) -> dict:
        """The body of Shippo's `track_updated` webhook for this parcel now."""
        return {"event": "track_updated", "test": test, "data": self.track(carrier, tracking_number)}

    def send_track_updated(self, url: str, carrier: str, tracking_number: str, *, timeout: float = 10) -> int:
        """POST the `track_updated` webhook to `url` as Shippo does (signed when hmac_secret is set); the status."""
        body = json.dumps(self.track_updated_payload(carrier, tracking_number)).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Shippo-Webhook"}
        if self.hmac_secret:
            headers["Shippo-Auth-Signature"] = shippo_signature(self.hmac_secret, body)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # ----- used by the handler -------------------------------------------------------------

    def _track(self, carrier: str, number: str) -> dict:
        """The held Track (created UNKNOWN on first sight); call with the lock held."""
        key = (carrier, number)
        if key not in self.tracks:
            self.tracks[key] = _new_track(carrier, number)
            test_status = number[len("SHIPPO_") :] if carrier == "shippo" and number.startswith("SHIPPO_") else ""
            if test_status in STATUSES and test_status != "UNKNOWN":
                entry = _status_entry(test_status, "", datetime.now(UTC), "San Francisco", "US", "94103", "CA")
                self.tracks[key]["tracking_status"] = entry
                self.tracks[key]["tracking_history"] = [entry]
        return self.tracks[key]

    def _authorized(self, header: str) -> bool:
        return hmac.compare_digest(header.encode(), f"ShippoToken {self.api_key}".encode())


def _new_track(carrier: str, number: str) -> dict:
    now = _stamp(datetime.now(UTC))
    return {
        "carrier": carrier,
        "tracking_number": number,
        "address_from": None,
        "address_to": None,
        "eta": None,
        "original_eta": None,
        "servicelevel": {"token": None, "name": None},
        "metadata": None,
        "tracking_status": {
            "object_created": now,
            "object_updated": now,
            "object_id": secrets.token_hex(16),
            "status": "UNKNOWN",
            "status_details": "",
            "status_date": None,
            "substatus": None,
            "location": None,
        },
        "tracking_history": [],
        "transaction": None,
        "messages": [],
    }


def _status_entry(status, details, at, city, country, zip_code, state) -> dict:
    code, text, action_required = _SUBSTATUS[status]
    now = _stamp(datetime.now(UTC))
    return {
        "object_created": now,
        "object_updated": now,
        "object_id": secrets.token_hex(16),
        "status": status,
        "status_details": details or text,
        "status_date": _stamp(at),
        "substatus": {"code": code, "text": text, "action_required": action_required},
        "location": {"city": city, "state": state, "zip": zip_code, "country": country},
    }


class _Handler(QuietHandler):
    owner: FakeShippo
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        path = urlsplit(self.path).path
        fake.requests.append(
            {"method": "POST", "path": self.path, "body": raw, "authorization": self.headers.get("Authorization", "")}
        )
        if path not in ("/tracks", "/tracks/"):
            return self._json(404, {"detail": "Not found."})
        if not fake._authorized(self.headers.get("Authorization", "")):
            return self._json(401, {"detail": "Invalid token."})
        if "json" in (self.headers.get("Content-Type") or ""):
            try:
                form = json.loads(raw or b"{}")
            except ValueError:
                return self._json(400, {"detail": "JSON parse error."})
        else:
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        missing = {f: ["This field is required."] for f in ("carrier", "tracking_number") if not form.get(f)}
        if missing:
            return self._json(400, missing)
        if not _CARRIER_RE.match(str(form["carrier"])):
            return self._json(400, {"carrier": [f"Invalid carrier token {form['carrier']!r}."]})
        kind, value = fake._next_action()
        if kind == "status":
            return self._json(value, {"detail": "Internal server error."})
        if kind == "drop":
            return self._drop()
        with fake._lock:
            track = fake._track(str(form["carrier"]), str(form["tracking_number"]))
            if form.get("metadata"):
                track["metadata"] = str(form["metadata"])[:100]
            fake.registrations.append(
                {
                    "carrier": track["carrier"],
                    "tracking_number": track["tracking_number"],
                    "metadata": track["metadata"],
                }
            )
            answer = json.loads(json.dumps(track))
        if kind == "hang":
            fake._release.wait(value)
        self._json(200, answer)

    def do_GET(self):
        fake = self.owner
        fake.requests.append(
            {"method": "GET", "path": self.path, "authorization": self.headers.get("Authorization", "")}
        )
        match = _TRACK_PATH.match(urlsplit(self.path).path)
        if not match:
            return self._json(404, {"detail": "Not found."})
        if not fake._authorized(self.headers.get("Authorization", "")):
            return self._json(401, {"detail": "Invalid token."})
        kind, value = fake._next_action()
        if kind == "status":
            return self._json(value, {"detail": "Internal server error."})
        if kind == "drop":
            return self._drop()
        answer = fake.track(unquote(match["carrier"]), unquote(match["number"]))
        if kind == "hang":
            fake._release.wait(value)
        self._json(200, answer)

    def _drop(self):
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, status: int, payload: dict):
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (hang_next)
            pass


FakeShippo.handler = _Handler
