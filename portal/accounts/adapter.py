from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError


class PortalAccountAdapter(DefaultAccountAdapter):
    """Every e-mail allauth sends (reset, verification) goes through our outbox, never inline."""

    def send_mail(self, template_prefix, email, context):
        from portal.notifications.services import email_queue

        message = self.render_mail(template_prefix, email, context)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        email_queue(to=email, subject=message.subject, body=message.body, html_body=html)

    def is_open_for_signup(self, request):
        # allauth does not read ACCOUNT_ALLOW_REGISTRATION itself: without this, signup stays open.
        return settings.ACCOUNT_ALLOW_REGISTRATION

    def add_message(self, request, level, message_template=None, message_context=None, extra_tags="", message=None):
        """No "Successfully signed in" while the second factor is still to come: the login is not done yet."""
        from portal.accounts.two_factor import second_factor_pending

        if message_template == "account/messages/logged_in.txt" and second_factor_pending(request.user):
            return
        # In the language of the page that shows it: after a login that is the user's own language,
        # not the one of the anonymous login page the request came from (and after a logout, the reverse).
        from django.utils import translation

        from portal.core.middleware import request_language

        # allauth says "signed out" while the user is still signed in; the next page is anonymous.
        reader = None if message_template == "account/messages/logged_out.txt" else getattr(request, "user", None)
        with translation.override(request_language(request, reader)):
            super().add_message(request, level, message_template, message_context, extra_tags, message)

    def pre_authenticate(self, request, **credentials):
        """A login refused by the lockout never reaches authenticate(): audit the refusal here."""
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from portal.audit.services import audit_record

            login = str(credentials.get("email") or credentials.get("username") or "")[:254]
            audit_record(action="auth.login_locked", actor_label=login, changes={"login": login})
            raise
