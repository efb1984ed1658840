"""The one-time code and its limits: how codes are made, hashed and timed, and how often they may be tried.

- A code is 6 digits from `secrets`, valid 5 minutes from when its SMS was handed to the
  provider (or from issue, if that is later), single use.
- Only an HMAC of it is stored, keyed with SIGNING_CODE_KEY and bound to the challenge and
  the content hash: the same digits for another challenge or another content do not match.
- 5 wrong codes kill a challenge; 10 wrong codes within 24 hours lock the client's signing for
  24 hours. A code SMS may be resent once a minute, 3 times per challenge, and a phone gets at
  most 10 code SMS in 24 hours.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.crypto import salted_hmac

CODE_DIGITS = 6
CODE_TTL_SECONDS = 5 * 60
# A code whose SMS is handed over late (provider down) still gets its 5 minutes, but not after this.
CODE_DELIVERY_GRACE_SECONDS = 30 * 60
MAX_WRONG_PER_CHALLENGE = 5
MAX_FAILURES_PER_DAY = 10
LOCK_HOURS = 24
RESEND_INTERVAL_SECONDS = 60
RESENDS_PER_CHALLENGE = 3
SMS_PER_PHONE_PER_DAY = 10
WINDOW = timedelta(hours=24)


def code_generate() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _key() -> str:
    return settings.SIGNING_CODE_KEY or salted_hmac("signing.code-key", "v1", algorithm="sha256").hexdigest()


def code_digest(*, challenge_id: int, content_hash: str, code: str) -> str:
    """The keyed hash stored for a code: bound to its challenge and to the content it signs."""
    message = f"{challenge_id}:{content_hash}:{code}".encode()
    return hmac.new(_key().encode(), message, hashlib.sha256).hexdigest()


def code_matches(*, challenge, content_hash: str, code: str) -> bool:
    candidate = code_digest(challenge_id=challenge.pk, content_hash=content_hash, code=code)
    return hmac.compare_digest(candidate, challenge.code_hash)


def code_valid_until(challenge, handed_over_at: datetime | None) -> datetime:
    """Five minutes from the later of issue and hand-over to the SMS provider (within the grace)."""
    start = challenge.code_issued_at
    if handed_over_at is not None and handed_over_at > start:
        start = min(handed_over_at, challenge.code_issued_at + timedelta(seconds=CODE_DELIVERY_GRACE_SECONDS))
    return start + timedelta(seconds=CODE_TTL_SECONDS)


def code_well_formed(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def mask_phone(phone: str) -> str:
    if len(phone) < 6:
        return "•" * len(phone)
    return phone[:3] + "•" * (len(phone) - 6) + phone[-3:]
