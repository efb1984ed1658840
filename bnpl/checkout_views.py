"""The hosted checkout pages (`/bnpl/checkout/<token>/`): thin; the writes are in bnpl/checkout.py.

One page shows where the shopper stands: log in or register; choose the option; give the account
for the direct debit; verify the mobile number; read the pre-contractual information and the
agreement (PDF), ask for the SMS code and accept. Each step posts back here (`action`) and is
redirected to the page again. The page speaks the session's language. A token nobody issued is
404; an expired or used session says so; someone logged in with another e-mail is refused (403).
"""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.accounts import phone_verification

from . import agreements, checkout, mandates
from .checkout_forms import AcceptForm, MandateForm, OptionForm, PhoneCodeForm, PhoneForm, RegisterForm
from .models import CreditAgreement, Order, PaymentSession, Shopper

BACKEND = "portal.accounts.backends.PortalAuthenticationBackend"


def _errors(exc: ValidationError) -> list[str]:
    return exc.messages


@never_cache
def checkout_page(request, token: str):
    session = checkout.checkout_session_get(token=token)
    with translation.override(session.locale):
        return _page(request, session)


def _page(request, session):
    now = timezone.now()
    state = session.current_state(now)
    user = request.user
    if state == PaymentSession.State.USED:
        order = Order.objects.filter(session=session).first()
        if order is not None and user.is_authenticated and order.shopper.user_id == user.pk:
            return render(request, "bnpl/checkout/outcome.html", {"session": session, "order": order})
        return render(request, "bnpl/checkout/closed.html", {"session": session, "state": state}, status=410)
    if state == PaymentSession.State.EXPIRED:
        return render(request, "bnpl/checkout/closed.html", {"session": session, "state": state}, status=410)
    if not user.is_authenticated:
        return _welcome(request, session)
    if not checkout.is_session_shopper(user, session):
        return _refused(request, session, checkout.other_email_refusal())
    if request.method == "POST":
        return _act(request, session)
    return _main(request, session)


def _refused(request, session, exc: PermissionDenied):
    return render(request, "bnpl/checkout/refused.html", {"session": session, "reason": str(exc)}, status=403)


def _welcome(request, session, form=None):
    if request.method == "POST" and request.POST.get("action") == "register":
        form = RegisterForm(request.POST)
        if form.is_valid():
            values = form.cleaned_data
            try:
                user = checkout.checkout_shopper_register(
                    session=session, **{k: v for k, v in values.items() if k != "email"}
                )
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                login(request, user, backend=BACKEND)
                return redirect(checkout.checkout_url(session))
    form = form or RegisterForm(initial={"email": session.shopper_email})
    form.fields["email"].initial = session.shopper_email
    today = timezone.localdate()
    login_url = reverse("account_login") + "?" + urlencode({"next": checkout.checkout_url(session)})
    return render(
        request,
        "bnpl/checkout/welcome.html",
        {
            "session": session,
            "lines": list(session.lines.all()),
            "options": checkout.checkout_options(session, today),
            "form": form,
            "login_url": login_url,
        },
        status=400 if form.errors else 200,
    )


def _act(request, session):
    action = request.POST.get("action", "")
    user = request.user
    forms = {}
    try:
        if action == "option":
            form = OptionForm(request.POST)
            if form.is_valid():
                checkout.checkout_option_choose(
                    actor=user, session_id=session.pk, option_key=form.cleaned_data["option_key"]
                )
        elif action == "mandate":
            forms["mandate"] = form = MandateForm(request.POST)
            if form.is_valid():
                mandates.mandate_grant(actor=user, shopper=Shopper.objects.get(user=user), **form.cleaned_data)
                forms.pop("mandate")
        elif action == "phone_set":
            forms["phone_number"] = form = PhoneForm(request.POST)
            if form.is_valid():
                phone_verification.user_phone_change(user=user, phone=form.cleaned_data["phone"])
                forms.pop("phone_number")
        elif action == "phone_send":
            phone_verification.phone_code_send(user=user)
        elif action == "phone_check":
            forms["phone"] = form = PhoneCodeForm(request.POST)
            if form.is_valid():
                phone_verification.phone_code_check(user=user, code=form.cleaned_data["code"])
                forms.pop("phone")
        elif action == "code":
            checkout.checkout_code_request(
                actor=user, session_id=session.pk, content_hash=request.POST.get("content_hash", "")
            )
            messages.success(request, translation.gettext("We sent the code to your mobile phone."))
        elif action == "accept":
            forms["accept"] = form = AcceptForm(request.POST)
            if form.is_valid():
                checkout.checkout_accept(actor=user, session_id=session.pk, **form.cleaned_data)
                forms.pop("accept")
        else:
            messages.error(request, translation.gettext("Choose a step of the checkout."))
    except ValidationError as exc:
        form = next(iter(forms.values()), None)
        if form is not None and hasattr(exc, "error_dict"):
            for field, problems in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        elif form is not None:  # a refusal of the whole step (a wrong code): shown at the step's input
            form.add_error(list(form.fields)[-1], exc.messages)
        else:
            for problem in exc.messages:
                messages.error(request, problem)
    except PermissionDenied as exc:
        return _refused(request, session, exc)
    if any(form.errors for form in forms.values()):
        return _main(request, session, forms=forms, status=400)
    return redirect(checkout.checkout_url(session))


def _main(request, session, *, forms=None, status=200):
    forms = forms or {}
    user = request.user
    shopper = Shopper.objects.filter(user=user).first()
    if shopper is None:  # a portal login buying for the first time: a profile with the starter limit
        shopper = checkout.starter_profile(user)
    today = timezone.localdate()
    agreement = CreditAgreement.objects.select_related("signature_request").filter(session=session).first()
    mandate = mandates.active_mandate(shopper)
    phone = phone_verification.phone_state(user=user)
    draft = None
    if agreement is not None:
        try:
            draft = checkout.agreement_draft(
                session=session, shopper=shopper, option_key=agreement.option_key, today=today
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    code_sent = bool(
        agreement
        and draft
        and agreement.signature_request_id
        and agreement.content_hash == draft.content_hash
        and agreement.signature_request.is_open
    )
    context = {
        "session": session,
        "lines": list(session.lines.all()),
        "options": checkout.checkout_options(session, today),
        "agreement": agreement,
        "draft": draft,
        "doc": draft.document if draft else None,
        "fingerprint": agreements.fingerprint(draft.content_hash) if draft else "",
        "mandate": mandate,
        "phone": phone,
        "code_sent": code_sent,
        "mandate_form": forms.get("mandate") or MandateForm(initial={"account_holder": user.get_full_name()}),
        "phone_form": forms.get("phone") or PhoneCodeForm(),
        "phone_number_form": forms.get("phone_number") or PhoneForm(),
        "accept_form": forms.get("accept")
        or AcceptForm(
            initial={
                "option_key": agreement.option_key if agreement else "",
                "content_hash": draft.content_hash if draft else "",
            }
        ),
    }
    return render(request, "bnpl/checkout/page.html", context, status=status)


@never_cache
@require_GET
def checkout_agreement_pdf(request, token: str):
    """The agreement as the shopper would sign it now, as PDF (only for the session's shopper)."""
    session = checkout.checkout_session_get(token=token)
    if not checkout.is_session_shopper(request.user, session):
        raise PermissionDenied(checkout.other_email_refusal())
    agreement = CreditAgreement.objects.filter(session=session).first()
    shopper = Shopper.objects.filter(user=request.user).first()
    if agreement is None or shopper is None:
        return redirect(checkout.checkout_url(session))
    draft = checkout.agreement_draft(
        session=session, shopper=shopper, option_key=agreement.option_key, today=timezone.localdate()
    )
    data = agreements.agreement_pdf_render(draft.document, draft.content_hash, language=session.locale)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="credit-agreement-{session.reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
