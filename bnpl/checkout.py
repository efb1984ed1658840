"""The hosted checkout's writes: register, choose an option, ask for the code, accept and place.

    open session ──choose option──▶ agreement ──code (signing)──▶ signed ──place──▶ order ──decide──▶
                                        ▲
        PATCH lines (re-pricing), ──────┘ new figures: the agreement's hash changes, its signing
        another option                    request is withdrawn (its codes die), a new one is written

The shopper of a session is whoever logs in with the session's shopper e-mail; anybody else is
refused (PermissionDenied, "this checkout is for another e-mail"). Each write locks the session
row. The agreement's content and hash are in bnpl/agreements.py; the SMS code round is signing's
(`signing_code_request`, `signature_request_sign`, both durable, so they run between our own
transactions, never inside them). `checkout_place` makes at most one order per session: the
session row is locked and a used session answers the order it already made.
"""

import re
from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.accounts.phone_verification import phone_number_normalise
from portal.accounts.roles import Role
from portal.accounts.services import user_roles_set
from portal.audit.services import audit_record
from signing import services as signing
from signing.models import SignatureRequest

from . import agreements, decisions, pricing
from .instant import merchant_confirm
from .mandates import active_mandate
from .models import CreditAgreement, Instalment, Order, OrderLine, PaymentSession, Plan, Shopper
from .money import money_round
from .services import LineInput, session_check, session_lines_prefetched, session_lines_write, shopper_profile_ensure

REGION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
ADULT_AGE = 18


def _refuse(field: str, message: str, code: str):
    raise ValidationError({field: ValidationError(message, code=code)})


def other_email_refusal() -> PermissionDenied:
    return PermissionDenied(_("This checkout is for another e-mail address. Log out and log in with the right one."))


# --- reads ------------------------------------------------------------------------------------------


def checkout_session_get(*, token: str) -> PaymentSession:
    """The session behind a checkout URL (404 for an unknown token)."""
    session = (
        PaymentSession.objects.select_related("merchant", "agreement").prefetch_related("lines").filter(token=token)
    ).first()
    if session is None:
        raise Http404
    return session


def is_session_shopper(actor, session) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.email.lower() == session.shopper_email.lower())


def checkout_url(session) -> str:
    return reverse("bnpl:checkout", args=[session.token])


def checkout_options(session, today: date) -> list[pricing.PaymentOption]:
    return pricing.payment_options(amount=session.amount, currency=session.currency, start=today)


@dataclass(frozen=True)
class AgreementDraft:
    document: dict
    content_hash: str


def agreement_draft(*, session, shopper, option_key: str, today: date) -> AgreementDraft:
    """The agreement as it would be signed now: the session's current lines and amount, this option."""
    try:
        option = pricing.payment_option(key=option_key, amount=session.amount, currency=session.currency, start=today)
    except pricing.PricingError as exc:
        raise ValidationError({"option_key": ValidationError(str(exc), code="option_not_offered")}) from None
    document = agreements.agreement_document(
        session=session, shopper=shopper, option=option, mandate=active_mandate(shopper), today=today
    )
    return AgreementDraft(document=document, content_hash=agreements.document_hash(document))


# --- writes -----------------------------------------------------------------------------------------


def _locked_session(*, actor, session_id) -> PaymentSession:
    """The session locked for the shopper it was opened for; another login is refused."""
    session = (
        PaymentSession.objects.select_for_update(of=("self",)).select_related("merchant").filter(pk=session_id).first()
    )
    if session is None:
        raise Http404
    if not is_session_shopper(actor, session):
        raise other_email_refusal()
    return session


def _open_check(session, now) -> None:
    state = session.current_state(now)
    if state == PaymentSession.State.EXPIRED:
        _refuse("session", _("This checkout has expired. Go back to the shop and start again."), "expired")
    if state == PaymentSession.State.USED:
        _refuse("session", _("This checkout is complete: the order was placed."), "used")


def starter_profile(actor) -> Shopper:
    """The shopper profile of a portal user who checks out for the first time (made with the starter limit)."""
    return shopper_profile_ensure(actor=actor, user=actor, **_starter_limit())


def _starter_limit() -> dict:
    return {
        "purchase_limit": money_round(settings.BNPL_STARTER_LIMIT, settings.BNPL_STARTER_LIMIT_CURRENCY),
        "purchase_limit_currency": settings.BNPL_STARTER_LIMIT_CURRENCY,
    }


def _shopper_of(actor) -> Shopper:
    shopper = Shopper.objects.filter(user=actor).select_related("user").first()
    if shopper is None:
        _refuse("shopper", _("Complete your details first."), "no_profile")
    return shopper


def checkout_shopper_register(
    *,
    session,
    first_name: str,
    last_name: str,
    phone: str,
    date_of_birth,
    region: str,
    password: str,
    today: date | None = None,
):
    """A new portal login (end-client role) with a shopper profile, for the session's shopper e-mail.

    The e-mail is the one the shop gave; the mobile number is verified next, by SMS, before any
    code can sign. New shoppers start with BNPL_STARTER_LIMIT as their purchase limit.
    """
    today = today or timezone.localdate()
    _open_check(session, timezone.now())
    errors = {}
    first_name, last_name = " ".join((first_name or "").split()), " ".join((last_name or "").split())
    if not first_name:
        errors["first_name"] = _("Enter your first name.")
    if not last_name:
        errors["last_name"] = _("Enter your last name.")
    try:
        phone = phone_number_normalise(phone)
    except ValidationError as exc:
        errors["phone"] = " ".join(exc.messages)
    if not isinstance(date_of_birth, date) or date_of_birth >= today:
        errors["date_of_birth"] = _("Enter your date of birth.")
    elif (today.year - date_of_birth.year - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))) < (
        ADULT_AGE
    ):
        errors["date_of_birth"] = _("You must be at least 18 years old to buy on credit.")
    region = (region or "").strip().upper()
    if not REGION_RE.match(region):
        errors["region"] = _("Enter your country or region as an ISO code, e.g. DE or DE-BY.")
    email = session.shopper_email.lower()
    User = get_user_model()
    try:
        validate_password(password, User(email=email, first_name=first_name, last_name=last_name))
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = _("There is a login with this e-mail already. Log in instead.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        user = User.objects.create_user(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            language=session.locale,
        )
        user_roles_set(actor=None, user=user, roles=[Role.CLIENT])
        # Known to allauth, not verified: a later login by password asks for the e-mail's confirmation.
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
        audit_record(
            action="bnpl.shopper_registered",
            actor=user,
            obj=session,
            changes={"email": email, "region": region},
        )
        shopper_profile_ensure(
            actor=user,
            user=user,
            region=region,
            date_of_birth=date_of_birth,
            **_starter_limit(),
        )
    return user


def checkout_option_choose(*, actor, session_id, option_key: str, today: date | None = None) -> CreditAgreement:
    """The shopper picks an option; the agreement waits for them to read it (its hash is set with the code)."""
    today = today or timezone.localdate()
    with transaction.atomic(durable=True):
        session = _locked_session(actor=actor, session_id=session_id)
        _open_check(session, timezone.now())
        shopper = _shopper_of(actor)
        agreement_draft(session=session, shopper=shopper, option_key=option_key, today=today)  # offered?
        agreement = CreditAgreement.objects.filter(session=session).first()
        old = agreement.option_key if agreement else None
        if agreement is None:
            agreement = CreditAgreement.objects.create(session=session, shopper=shopper, option_key=option_key)
        elif agreement.signature_request_id and agreement.signature_request.is_signed:
            _refuse("option_key", _("You have accepted the agreement already."), "already_signed")
        elif old != option_key:
            _agreement_void(agreement, reason="The shopper chose another payment option.")
            agreement.option_key, agreement.updated_at = option_key, timezone.now()
            agreement.save(update_fields=["option_key", "content_hash", "signature_request", "updated_at"])
        if old != option_key:
            audit_record(
                action="bnpl.checkout_option_chosen", actor=actor, obj=session, changes={"option": [old, option_key]}
            )
    return agreement


def _signature_request_write(*, agreement, session, shopper, draft) -> SignatureRequest:
    """A new signing request whose text carries the agreement's hash; any earlier one is withdrawn first."""
    _agreement_void(agreement, reason="The figures of the order changed before it was signed.")
    sender = agreements.service_user()
    title, text = agreements.signing_text(draft.document, draft.content_hash, language=shopper.user.language)
    request = signing.signature_request_create(
        actor=sender,
        recipient=f"shopper:{shopper.pk}",
        kind=SignatureRequest.Kind.DOCUMENT,
        title=title,
        message=text,
        origin=agreements.ORIGIN,
        external_reference=str(session.pk),
    )
    request = signing.signature_request_send(actor=sender, request_id=request.pk)
    agreement.signature_request = request
    return request


def _agreement_void(agreement, *, reason: str) -> bool:
    """The agreement's figures are no longer the ones to sign: its signing request is withdrawn (its codes
    die with it, in the checkout and in the client zone alike) and its hash cleared. Whether one was withdrawn.
    """
    agreement.content_hash = ""
    request = agreement.signature_request
    if request is None:
        return False
    if request.is_editable:
        signing.signature_request_cancel(actor=agreements.service_user(), request_id=request.pk, reason=reason)
    agreement.signature_request = None
    return True


def checkout_code_request(*, actor, session_id, content_hash: str, today: date | None = None):
    """Send the SMS code for exactly the agreement the shopper has read (`content_hash` from the page)."""
    today = today or timezone.localdate()
    with transaction.atomic(durable=True):
        session = _locked_session(actor=actor, session_id=session_id)
        _open_check(session, timezone.now())
        shopper = _shopper_of(actor)
        agreement = CreditAgreement.objects.select_related("signature_request").filter(session=session).first()
        if agreement is None:
            _refuse("option_key", _("Choose how you want to pay first."), "no_option")
        if active_mandate(shopper) is None:
            _refuse("iban", _("Give the account for the direct debit first."), "no_mandate")
        if not actor.phone_verified:
            _refuse("phone", _("Verify your mobile number first."), "phone_unverified")
        draft = agreement_draft(session=session, shopper=shopper, option_key=agreement.option_key, today=today)
        if content_hash != draft.content_hash:
            _content_changed()
        if agreement.signature_request_id and agreement.signature_request.is_signed:
            _refuse("code", _("You have accepted the agreement already."), "already_signed")
        if agreement.content_hash != draft.content_hash or agreement.signature_request_id is None:
            request = _signature_request_write(agreement=agreement, session=session, shopper=shopper, draft=draft)
            agreement.content, agreement.content_hash, agreement.updated_at = (
                draft.document,
                draft.content_hash,
                timezone.now(),
            )
            agreement.save(update_fields=["content", "content_hash", "signature_request", "updated_at"])
            audit_record(
                action="bnpl.checkout_agreement_written",
                actor=actor,
                obj=session,
                changes={"option": agreement.option_key, "content_hash": draft.content_hash, "request": request.pk},
            )
        request = agreement.signature_request
    # The shopper has this content in front of them (they sent its hash); then signing sends the code.
    request = signing.signature_request_mark_viewed(actor=actor, request=request)
    return signing.signing_code_request(actor=actor, request_id=request.pk, content_hash=request.content_hash)


def _content_changed():
    _refuse(
        "content_hash",
        _("The order or its figures changed since you read them. Read the new agreement, then request a new code."),
        "content_changed",
    )


def checkout_accept(*, actor, session_id, option_key: str, content_hash: str, code: str, today=None) -> Order:
    """Sign the agreement with the SMS code, place the order, and have the credit rules decide it."""
    session = PaymentSession.objects.select_related("merchant").filter(pk=session_id).first()
    if session is None:
        raise Http404
    if not is_session_shopper(actor, session):
        raise other_email_refusal()
    agreement = CreditAgreement.objects.select_related("signature_request").filter(session=session).first()
    if agreement is None:
        _refuse("option_key", _("Choose how you want to pay first."), "no_option")
    if agreement.option_key != option_key:
        _refuse("option_key", _("You changed the payment option; read the agreement again."), "option_changed")
    if not content_hash or content_hash != agreement.content_hash:
        _content_changed()
    if agreement.signature_request_id is None:
        _refuse("code", _("Request a code first."), "no_code")
    if session.is_open():
        # Instant shopping: the shop's server confirms the purchase before anything is signed or placed,
        # outside any transaction (a network call). A session the shop's server opened itself is
        # confirmed at once, without a call.
        confirmation = merchant_confirm(session=session)
        if not confirmation.confirmed:
            _refuse("code", confirmation.reason, "merchant_declined")
    request = agreement.signature_request
    if not request.is_signed:
        signing.signature_request_sign(actor=actor, request_id=request.pk, code=code, content_hash=request.content_hash)
    order, _created = checkout_place(
        actor=actor, session_id=session.pk, option_key=option_key, content_hash=content_hash, today=today
    )
    if order.state == Order.State.PENDING_DECISION:
        try:
            decisions.decide_order(order_id=order.pk)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "already_decided":  # a parallel submit decided it first
                raise
        order.refresh_from_db(fields=["state"])
    return order


def checkout_place(
    *, actor, session_id, option_key: str, content_hash: str, today: date | None = None
) -> tuple[Order, bool]:
    """The order of a signed agreement; (order, created). A session places one order, ever.

    Locks the session: a second or parallel submit waits, finds the session used and answers the
    order the first one made. The lines move to the order, a plan (waiting for shipment) is written
    from the priced option, and the session becomes used.
    """
    today = today or timezone.localdate()
    with transaction.atomic(durable=True):
        session = _locked_session(actor=actor, session_id=session_id)
        if session.state == PaymentSession.State.USED:
            order = Order.objects.filter(session=session).first()
            if order is None or order.shopper.user_id != actor.pk:
                raise other_email_refusal()
            return order, False
        _open_check(session, timezone.now())
        shopper = _shopper_of(actor)
        agreement = CreditAgreement.objects.select_related("signature_request").filter(session=session).first()
        if agreement is None or agreement.option_key != option_key:
            _refuse("option_key", _("Choose how you want to pay first."), "no_option")
        draft = agreement_draft(session=session, shopper=shopper, option_key=option_key, today=today)
        if not (content_hash == agreement.content_hash == draft.content_hash):
            _content_changed()
        request = agreement.signature_request
        if request is None or not request.is_signed or draft.content_hash not in request.message:
            _refuse("code", _("Accept the agreement with the code from the SMS first."), "not_signed")
        if Order.objects.filter(merchant=session.merchant, reference=session.reference).exists():
            _refuse("session", _("The shop has an order with this reference already."), "reference_used")
        option = pricing.payment_option(key=option_key, amount=session.amount, currency=session.currency, start=today)
        order = Order.objects.create(
            merchant=session.merchant,
            shopper=shopper,
            session=session,
            reference=session.reference,
            amount=session.amount,
            currency=session.currency,
            option_key=option_key,
        )
        moved = OrderLine.objects.filter(session=session).update(order=order)
        plan = Plan.objects.create(
            order=order,
            option_key=option.key,
            nominal_rate=option.nominal_rate,
            apr=option.apr,
            total_payable=option.total_payable,
            total_cost_of_credit=option.total_cost_of_credit,
            currency=option.currency,
        )
        # Due dates come with the shipment (order_schedule.plan_start); the amounts are the signed ones.
        Instalment.objects.bulk_create(
            [
                Instalment(plan=plan, number=p.number, amount=p.amount, principal=p.principal, interest=p.interest)
                for p in option.schedule
            ]
        )
        session.state = PaymentSession.State.USED
        session.save(update_fields=["state"])
        audit_record(
            action="bnpl.checkout_placed",
            actor=actor,
            obj=order,
            changes={
                "session": session.pk,
                "option": option_key,
                "lines": moved,
                "content_hash": content_hash,
                "signature_request": request.pk,
                "state": [None, order.state],
            },
        )
    return order, True


# --- re-pricing (the merchant API) --------------------------------------------------------------------


def session_lines_update(*, actor, session_id, amount, lines: list[LineInput]) -> PaymentSession:
    """New lines and amount for an open session, checked as at creation; the options are priced anew.

    An agreement waiting for its signature loses its signing request (withdrawn, with its codes) and its
    hash; the shopper reads the new figures and gets a new request and code, so a code sent for the
    old figures signs nothing. A session whose agreement is signed, or that is used or expired, is refused.
    """
    with transaction.atomic(durable=True):
        session = (
            PaymentSession.objects.restrict(actor)
            .select_for_update(of=("self",))
            .select_related("merchant")
            .filter(pk=session_id)
            .first()
        )
        if session is None:
            raise Http404
        if session.merchant.organisation_id != actor.organisation_id:
            raise PermissionDenied(_("Only the shop's people can change its sessions."))
        _open_check(session, timezone.now())
        session_check(
            amount=amount,
            currency=session.currency,
            lines=lines,
            shopper_email=session.shopper_email,
            locale=session.locale,
            reference=session.reference,
        )
        agreement = CreditAgreement.objects.select_related("signature_request").filter(session=session).first()
        if agreement is not None and agreement.signature_request_id and agreement.signature_request.is_signed:
            _refuse("session", _("The shopper has accepted the agreement already; the order cannot change."), "signed")
        old_amount = session.amount
        OrderLine.objects.filter(session=session, order__isnull=True).delete()
        created_lines = session_lines_write(session, lines)
        session.amount = amount
        session.save(update_fields=["amount"])
        voided = False
        if agreement is not None:
            # The old figures can no longer be signed anywhere: the request for them is withdrawn now.
            voided = _agreement_void(agreement, reason="The shop changed the order before it was signed.")
            agreement.updated_at = timezone.now()
            agreement.save(update_fields=["content_hash", "signature_request", "updated_at"])
        audit_record(
            action="bnpl.session_repriced",
            actor=actor,
            obj=session,
            changes={"amount": [str(old_amount), str(amount)], "lines": len(lines), "agreement_voided": voided},
        )
    return session_lines_prefetched(session, created_lines)
