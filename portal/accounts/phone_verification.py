"""Proving a mobile number: a 6-digit code by SMS, typed back within five minutes.

Signing sends its codes only to a verified number, so this is what makes a number fit for it.

- A code is 6 digits from `secrets`, valid 5 minutes from when its SMS was handed to the provider
  (or from issue, if that is later, but never later than 30 minutes after issue), single use.
- Only a keyed hash of it is stored, bound to its round and to the number; the SMS carries the
  code as the outbox row's sealed secret, which is destroyed in the transaction that ends the round
  (verified, expired, too many wrong codes, the number changed, a new code sent).
- 5 wrong codes end a round. A new code may be asked for once a minute and 3 times per round;
  a user gets at most 10 verification SMS in 24 hours, and so does a number (whoever asks).
- Every counter changes under a lock on the user's row, so parallel requests count exactly.
- Changing the number clears the verification (also `User.save`, for the admin and shells).
"""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from portal.audit.services import audit_record
from portal.notifications.models import OutboxMessage
from portal.notifications.sealed import PLACEHOLDER
from portal.notifications.services import E164_RE, notify, outbox_secret_destroy, sms_queue

from .models import PhoneCodeSend, PhoneVerification

CODE_DIGITS = 6
CODE_TTL_SECONDS = 5 * 60
# A code whose SMS leaves late (the provider is slow) still gets its 5 minutes, but not after this.
CODE_DELIVERY_GRACE_SECONDS = 30 * 60
MAX_WRONG_PER_ROUND = 5
RESEND_INTERVAL_SECONDS = 60
RESENDS_PER_ROUND = 3
SMS_PER_DAY = 10
WINDOW = timedelta(hours=24)
SMS_EVENT = "accounts.phone_code"

Status = PhoneVerification.Status
_SEPARATORS_RE = re.compile(r"[\s\-./()]+")


class CodeRefused(ValidationError):
    """The code was not accepted; `remaining` wrong tries are left in this round."""

    def __init__(self, message, *, code, remaining: int = 0, params=None):
        super().__init__(message, code=code, params=params)
        self.remaining = remaining


# --- reads -----------------------------------------------------------------------------------------


def phone_number_normalise(raw: str) -> str:
    """The number in E.164 (+4915112345678) from what a person types; ValidationError if it is none.

    Spaces, dashes, dots, slashes and brackets go; a leading 00 becomes +. An empty entry stays empty
    (no number).
    """
    number = _SEPARATORS_RE.sub("", raw or "")
    if number.startswith("00"):
        number = "+" + number[2:]
    if number and not E164_RE.match(number):
        raise ValidationError(
            _("Enter a mobile number in international format, e.g. +4915112345678."), code="phone_format"
        )
    return number


def phone_mask(phone: str) -> str:
    if len(phone) < 6:
        return "•" * len(phone)
    return phone[:3] + "•" * (len(phone) - 6) + phone[-3:]


@dataclass(frozen=True)
class PhoneState:
    """What the profile says about the mobile number and its current code round."""

    phone: str
    verified_at: datetime | None
    round: PhoneVerification | None
    delivery: str  # "", pending, sending, sent, failed, unknown (the latest SMS's outbox status)
    retrying: bool  # the provider refused or did not answer; the outbox tries again later
    sent_at: datetime | None
    valid_until: datetime | None
    resend_in: int  # seconds until another code may be asked for (0: now)
    resends_left: int

    @property
    def verified(self) -> bool:
        return bool(self.phone) and self.verified_at is not None

    @property
    def in_flight(self) -> bool:
        return self.delivery in (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING)

    @property
    def expired(self) -> bool:
        return (
            self.round is not None
            and not self.in_flight
            and self.valid_until is not None
            and self.valid_until <= timezone.now()
        )


def phone_state(*, user) -> PhoneState:
    """The user's number and code round as stored now (three queries at most, whatever the history)."""
    row = get_user_model().objects.filter(pk=user.pk).values("phone", "phone_verified_at").first() or {}
    phone, verified_at = row.get("phone", ""), row.get("phone_verified_at")
    current = PhoneVerification.objects.filter(user_id=user.pk, status=Status.ACTIVE, phone=phone).first()
    if current is None:
        return PhoneState(phone, verified_at, None, "", False, None, None, 0, RESENDS_PER_ROUND)
    now = timezone.now()
    send = current.code_sends.select_related("outbox_message").order_by("-created_at", "-id").first()
    message = send.outbox_message if send is not None else None
    resend_in = 0
    if send is not None:
        wait = send.created_at + timedelta(seconds=RESEND_INTERVAL_SECONDS) - now
        resend_in = max(0, int(wait.total_seconds() + 0.999))
    return PhoneState(
        phone=phone,
        verified_at=verified_at,
        round=current,
        delivery=message.status if message is not None else "",
        retrying=message is not None and message.status == OutboxMessage.Status.PENDING and message.attempts > 0,
        sent_at=message.sent_at if message is not None else None,
        valid_until=_valid_until(current, message.send_started_at if message is not None else None),
        resend_in=resend_in,
        resends_left=max(0, RESENDS_PER_ROUND - (current.sends - 1)),
    )


# --- writes ----------------------------------------------------------------------------------------


def user_phone_change(*, user, phone: str) -> bool:
    """Set the user's mobile number (as typed; normalised to E.164). A new number is unverified.

    Returns whether it changed. The open code round ends with the old number. Audited with the
    numbers masked. A number that is not one raises ValidationError and changes nothing.
    """
    phone = phone_number_normalise(phone)
    with transaction.atomic():
        locked = _user_lock(user)
        if locked.phone == phone:
            return False
        old, was_verified = locked.phone, locked.phone_verified_at is not None
        now = timezone.now()
        current = _active_round(locked)
        if current is not None:
            _round_end(current, Status.VOID, now, actor=locked)
        locked.phone = phone
        locked.phone_verified_at = None
        locked.save(update_fields=["phone", "phone_verified_at"])
        audit_record(
            action="auth.phone_changed",
            actor=user,
            obj=locked,
            changes={"phone": [phone_mask(old), phone_mask(phone)], "verified": [was_verified, False]},
        )
        # By e-mail too, whatever the settings: a stolen session must not move the codes unnoticed.
        notify(
            user=locked,
            event="security.phone_changed",
            context={"old_phone": phone_mask(old), "new_phone": phone_mask(phone)},
        )
    user.phone, user.phone_verified_at = phone, None
    return True


def phone_code_send(*, user) -> PhoneVerification:
    """Send a code to the user's number; while a round is open, a second call is a resend."""
    refusal = None
    current = None
    with transaction.atomic():
        locked = _user_lock(user)
        now = timezone.now()
        if not E164_RE.match(locked.phone or ""):
            refusal = ValidationError(_("Enter your mobile number first."), code="no_phone")
        elif locked.phone_verified_at is not None:
            refusal = ValidationError(_("Your mobile number is verified already."), code="already_verified")
        else:
            current = _active_round(locked)
            if current is not None and current.phone != locked.phone:
                _round_end(current, Status.VOID, now, actor=locked)
                current = None
            if current is not None and now >= _round_valid_until(current):
                _round_end(current, Status.EXPIRED, now, actor=locked)
                current = None
            refusal = _send_allowed(locked, current, now)
            if refusal is None:
                current = _code_send(locked, current, now)
    if refusal is not None:
        raise refusal
    return current


def phone_code_check(*, user, code: str) -> None:
    """Check the code of the open round: the right one verifies the number; wrong ones are counted.

    A refusal that counts (a wrong code, a round that ended) is committed before it is raised.
    """
    code = re.sub(r"\s+", "", code or "")
    if not (len(code) == CODE_DIGITS and code.isascii() and code.isdigit()):
        raise CodeRefused(_("Enter the 6-digit code from the SMS."), code="code_format")
    refusal = None
    with transaction.atomic():
        locked = _user_lock(user)
        now = timezone.now()
        current = _active_round(locked)
        if locked.phone_verified_at is not None:
            refusal = CodeRefused(_("Your mobile number is verified already."), code="already_verified")
        elif current is None:
            refusal = CodeRefused(_("Ask for a code first."), code="no_code")
        elif current.phone != locked.phone:
            _round_end(current, Status.VOID, now, actor=locked)
            refusal = CodeRefused(
                _("Your number has changed since the code was sent. Ask for a new code."), code="void"
            )
        elif now >= _round_valid_until(current):
            _round_end(current, Status.EXPIRED, now, actor=locked)
            refusal = CodeRefused(_("This code has expired. Ask for a new code."), code="code_expired")
        elif not hmac.compare_digest(_code_digest(current, code), current.code_hash):
            refusal = _wrong_code(locked, current, now)
        else:
            _verified(locked, current, now)
    if refusal is not None:
        raise refusal
    user.phone_verified_at = locked.phone_verified_at


def phone_verifications_expire_stale(*, now=None) -> int:
    """Sweep: end the rounds whose code can no longer work, destroying their SMS secrets. Returns how many."""
    now = now or timezone.now()
    candidates = PhoneVerification.objects.filter(
        status=Status.ACTIVE, code_issued_at__lte=now - timedelta(seconds=CODE_TTL_SECONDS)
    ).values_list("pk", flat=True)
    ended = 0
    for pk in list(candidates[:500]):
        with transaction.atomic():
            current = PhoneVerification.objects.select_for_update().filter(pk=pk, status=Status.ACTIVE).first()
            if current is not None and now >= _round_valid_until(current):
                _round_end(current, Status.EXPIRED, now)
                ended += 1
    return ended


# --- the parts -------------------------------------------------------------------------------------


def _user_lock(user):
    """The user's row, locked: every counter of their rounds changes one request at a time."""
    return (
        get_user_model()
        .objects.select_for_update()
        .only("pk", "email", "first_name", "last_name", "phone", "phone_verified_at", "language")
        .get(pk=user.pk)
    )


def _active_round(user) -> PhoneVerification | None:
    return PhoneVerification.objects.select_for_update().filter(user_id=user.pk, status=Status.ACTIVE).first()


def _code_digest(current: PhoneVerification, code: str) -> str:
    """The keyed hash stored for a code, bound to its round and to the number it was sent to."""
    return salted_hmac(
        "portal.accounts.phone-verification", f"{current.pk}:{current.phone}:{code}", algorithm="sha256"
    ).hexdigest()


def _valid_until(current: PhoneVerification, handed_over_at) -> datetime:
    start = current.code_issued_at
    if handed_over_at is not None and handed_over_at > start:
        start = min(handed_over_at, current.code_issued_at + timedelta(seconds=CODE_DELIVERY_GRACE_SECONDS))
    return start + timedelta(seconds=CODE_TTL_SECONDS)


def _round_valid_until(current: PhoneVerification) -> datetime:
    handed_over = (
        current.code_sends.order_by("-created_at", "-id")
        .values_list("outbox_message__send_started_at", flat=True)
        .first()
    )
    return _valid_until(current, handed_over)


def _secrets_destroy(current: PhoneVerification, *, sends=None) -> None:
    """A code that no longer works leaves no copy of ours: its SMS (waiting or delivered to the dev outbox)."""
    sends = current.code_sends.all() if sends is None else sends
    outbox_secret_destroy(
        message_ids=list(sends.values_list("outbox_message_id", flat=True)),
        reason="Not sent: the verification code was no longer valid when it could have been sent.",
    )


def _round_end(current: PhoneVerification, status: str, now, *, actor=None) -> None:
    """End a round (its code no longer works); audited on the user, by them or by the system's sweep."""
    current.status = status
    current.ended_at = now
    current.save(update_fields=["status", "ended_at"])
    _secrets_destroy(current)
    audit_record(
        action=f"auth.phone_code_{status}",
        actor=actor,
        actor_label="" if actor is not None else "system",
        obj=actor if actor is not None else current.user,
        changes={"round": current.pk, "status": [Status.ACTIVE, status], "phone": phone_mask(current.phone)},
    )


def _send_allowed(user, current, now) -> ValidationError | None:
    by_user = PhoneCodeSend.objects.filter(user_id=user.pk, created_at__gt=now - WINDOW)
    last = by_user.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None and now - last < timedelta(seconds=RESEND_INTERVAL_SECONDS):
        wait = RESEND_INTERVAL_SECONDS - int((now - last).total_seconds())
        return ValidationError(
            _("A code was just sent. You can ask for another one in %(seconds)d seconds."),
            code="too_soon",
            params={"seconds": max(wait, 1)},
        )
    by_phone = PhoneCodeSend.objects.filter(phone=user.phone, created_at__gt=now - WINDOW)
    if by_user.count() >= SMS_PER_DAY or by_phone.count() >= SMS_PER_DAY:
        return ValidationError(
            _("You have had the most codes allowed in 24 hours. Please try again tomorrow."), code="daily_limit"
        )
    if current is not None and current.sends - 1 >= RESENDS_PER_ROUND:
        return ValidationError(
            _("The code cannot be sent again. Use the last code you received, or wait until it expires."),
            code="resend_limit",
        )
    return None


def _code_send(user, current, now) -> PhoneVerification:
    resent = current is not None
    if current is None:
        current = PhoneVerification.objects.create(user=user, phone=user.phone, created_at=now, code_issued_at=now)
    else:
        # The new code replaces the old one, which stops working now: its SMS keeps no copy of it.
        _secrets_destroy(current)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    current.code_hash = _code_digest(current, code)
    current.code_issued_at = now
    current.sends += 1
    current.save(update_fields=["code_hash", "code_issued_at", "sends"])
    # The code travels apart from the text, sealed; only the SMS transport puts it in.
    message = sms_queue(
        to=user.phone,
        body=_code_sms_text(user),
        secret=code,
        send_before=now + timedelta(seconds=CODE_DELIVERY_GRACE_SECONDS),
        user=user,
        event=SMS_EVENT,
        idempotency_key=f"phone-code:{current.pk}:{current.sends}",
    )
    PhoneCodeSend.objects.create(
        verification=current, user=user, phone=user.phone, created_at=now, outbox_message=message
    )
    audit_record(
        action="auth.phone_code_resent" if resent else "auth.phone_code_sent",
        actor=user,
        obj=user,
        changes={"round": current.pk, "sms": current.sends, "phone": phone_mask(user.phone)},
    )
    return current


def _code_sms_text(user) -> str:
    language = user.language if user.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        return _(
            "Partnerzone: your code to verify this mobile number is %(code)s. Valid for 5 minutes. Never share this code."
        ) % {"code": PLACEHOLDER}


def _wrong_code(user, current, now) -> CodeRefused:
    current.failed_attempts += 1
    dead = current.failed_attempts >= MAX_WRONG_PER_ROUND
    if dead:
        current.status = Status.DEAD
        current.ended_at = now
    current.save(update_fields=["failed_attempts", "status", "ended_at"])
    audit_record(
        action="auth.phone_code_wrong",
        actor=user,
        obj=user,
        changes={"round": current.pk, "wrong_codes": current.failed_attempts},
    )
    if dead:
        _secrets_destroy(current)
        audit_record(
            action="auth.phone_code_dead",
            actor=user,
            obj=user,
            changes={"round": current.pk, "status": [Status.ACTIVE, Status.DEAD]},
        )
        return CodeRefused(
            _("Wrong code. This code no longer works after 5 wrong tries; ask for a new code."), code="round_dead"
        )
    remaining = MAX_WRONG_PER_ROUND - current.failed_attempts
    return CodeRefused(
        _("Wrong code. %(remaining)d tries left for this code."),
        code="wrong_code",
        params={"remaining": remaining},
        remaining=remaining,
    )


def _verified(user, current, now) -> None:
    current.status = Status.VERIFIED
    current.ended_at = now
    current.save(update_fields=["status", "ended_at"])
    _secrets_destroy(current)
    user.phone_verified_at = now
    user.save(update_fields=["phone_verified_at"])
    audit_record(
        action="auth.phone_verified",
        actor=user,
        obj=user,
        changes={"round": current.pk, "phone": phone_mask(user.phone), "verified": [False, True]},
    )
