"""A loopback fake of Twilio's Messages API, for the real twilio client to talk to.

    fake = FakeTwilio(account_sid="AC…", auth_token="…").start()
    settings.TWILIO_API_BASE = fake.base_url
    fake.fail_next(429, times=2)   # then 201 again
    fake.hang_next(seconds=3)      # takes the message, answers too late (outcome unknown)
    fake.drop_next(accept=True)    # takes the message, then drops the connection without answering
    fake.drop_next(accept=False)   # drops the connection before taking the message
    fake.stop(); fake.start()      # refused connections in between, same port after
    fake.messages                  # what was accepted: dicts with to, from, body, sid, date_sent

POST /2010-04-01/Accounts/{sid}/Messages.json sends; GET on the same path lists, newest first,
filtered by To, From and DateSent (DateSent<, DateSent>: on or before, on or after; a date
compares by day, a date-time exactly), paged with Page, PageSize and PageToken in the shape of
Twilio's 2010 API. Both need HTTP basic auth; the fault plan applies to both.
"""

import base64
import contextlib
import json
import re
import secrets
import socket
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from .loopback import LoopbackFake, QuietHandler

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC[0-9a-fA-F]{32})/Messages\.json$")


def new_account_sid() -> str:
    return "AC" + secrets.token_hex(16)


class FakeTwilio(LoopbackFake):
    name = "fake-twilio"

    def __init__(self, *, account_sid: str | None = None, auth_token: str | None = None, port: int = 0):
        super().__init__(port=port)
        self.account_sid = account_sid or new_account_sid()
        self.auth_token = auth_token or secrets.token_hex(16)
        self.messages: list[dict] = []

    # ----- control -------------------------------------------------------------------------

    def drop_next(self, *, accept: bool, times: int = 1) -> None:
        """Close the next connection(s) without an answer; `accept`: after taking the message (POST only)."""
        with self._lock:
            self._plan += [("drop", accept)] * times

    def add_message(self, *, to: str, body: str, sent_at: datetime, sender: str = "") -> dict:
        """A message the account sent earlier (from another system, another day) for the list to show."""
        form = {"To": to, "From": sender, "Body": body}
        return _accept(self, form, self.account_sid, when=sent_at)

    def wait_for_messages(self, count: int, *, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} SMS at the fake Twilio within {timeout}s, got {self.messages!r}")

    # ----- used by the handler -------------------------------------------------------------

    def _authorized(self, header: str, sid: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and header == f"Basic {expected}"


class _Handler(QuietHandler):
    owner: FakeTwilio
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        fake = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        match = _MESSAGES_PATH.match(self.path)
        fake.requests.append(
            {"method": "POST", "path": self.path, "form": form, "authorization": self.headers.get("Authorization", "")}
        )
        if not match:
            return self._error(404, 20404, "The requested resource was not found")
        if not fake._authorized(self.headers.get("Authorization", ""), match["sid"]):
            return self._error(401, 20003, "Authenticate")
        missing = [f for f in ("To", "Body") if not form.get(f)] + ([] if form.get("From") else ["From"])
        if missing:
            return self._error(400, 21604, f"A '{missing[0]}' parameter is required.")
        if not re.match(r"^\+[1-9]\d{6,14}$", form["To"]):
            return self._error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
        kind, value = fake._next_action()
        if kind == "status":
            return self._planned_error(value)
        if kind == "drop" and not value:
            return self._drop()
        message = _accept(fake, form, match["sid"])
        if kind == "drop":
            return self._drop()
        if kind == "hang":
            fake._release.wait(value)
        # Twilio answers a new message as queued, before it has left.
        self._json(201, {**message, "status": "queued", "date_sent": None})

    def do_GET(self):
        fake = self.owner
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        match = _MESSAGES_PATH.match(url.path)
        fake.requests.append(
            {"method": "GET", "path": self.path, "query": query, "authorization": self.headers.get("Authorization", "")}
        )
        if not match:
            return self._error(404, 20404, "The requested resource was not found")
        if not fake._authorized(self.headers.get("Authorization", ""), match["sid"]):
            return self._error(401, 20003, "Authenticate")
        kind, value = fake._next_action()
        if kind == "status":
            return self._planned_error(value)
        if kind == "drop":
            return self._drop()
        if kind == "hang":
            fake._release.wait(value)
        try:
            listed = [m for m in reversed(fake.messages) if _listed(m, query)]
            page = int(query.get("Page") or 0)
            page_size = min(int(query.get("PageSize") or 50), 1000)
        except ValueError as exc:
            return self._error(400, 20001, f"Invalid parameter: {exc}")
        if page < 0 or page_size < 1:
            return self._error(400, 20001, "Invalid paging parameter")
        start = page * page_size
        records = listed[start : start + page_size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def page_uri(number: int, token: str = "") -> str:
            params = {**filters, "PageSize": page_size, "Page": number}
            if token:
                params["PageToken"] = token
            return f"{url.path}?{urlencode(params)}"

        has_next = start + page_size < len(listed)
        self._json(
            200,
            {
                "messages": records,
                "end": start + len(records) - 1 if records else 0,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1, "PA" + records[-1]["sid"]) if has_next else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1, "PB" + records[0]["sid"]) if page > 0 and records else None,
                "start": start,
                "uri": page_uri(page, query.get("PageToken", "")),
            },
        )

    def _planned_error(self, status: int):
        message = "Too Many Requests" if status == 429 else "Internal Server Error"
        return self._error(status, 20429 if status == 429 else 20500, message)

    def _drop(self):
        """Close the connection without a word: the client cannot tell whether the message was taken."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, status: int, code: int, message: str):
        self._json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _json(self, status: int, payload: dict):
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (hang_next)
            pass


def _accept(fake: FakeTwilio, form: dict, account_sid: str, *, when: datetime | None = None) -> dict:
    """Store a message as Twilio lists it once sent (it sends at once here)."""
    sid = "SM" + secrets.token_hex(16)
    stamp = format_datetime(when or datetime.now(UTC), usegmt=True)
    message = {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form["Body"],
        "date_created": stamp,
        "date_sent": stamp,
        "date_updated": stamp,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(max(1, -(-len(form["Body"]) // 160))),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "sent",
        "subresource_uris": {"media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"},
        "to": form["To"],
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }
    with fake._lock:
        fake.messages.append(message)
    return message


def _listed(message: dict, query: dict) -> bool:
    """Whether a stored message passes the list filters, as Twilio applies them."""
    if query.get("To") and message["to"] != query["To"]:
        return False
    if query.get("From") and message["from"] != query["From"]:
        return False
    bounds = [(key, query[key]) for key in ("DateSent", "DateSent<", "DateSent>") if query.get(key)]
    if not bounds:
        return True
    if message["date_sent"] is None:
        return False  # not sent yet: no DateSent to compare
    sent = parsedate_to_datetime(message["date_sent"])
    for key, raw in bounds:
        if "T" in raw:  # a date-time, as the twilio library sends: compared exactly
            bound = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            value = sent
        else:  # a date: compared by day
            bound = datetime.strptime(raw, "%Y-%m-%d").date()
            value = sent.date()
        if (key == "DateSent" and value != bound) or (key == "DateSent<" and value > bound):
            return False
        if key == "DateSent>" and value < bound:
            return False
    return True


FakeTwilio.handler = _Handler
