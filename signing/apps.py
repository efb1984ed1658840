from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = _("Signature requests")

    def ready(self):
        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.notifications.registry import EMAIL, IN_APP, register_event
        from portal.threads.registry import register_thread_kind

        from . import (
            client_zone,
            evidence,
            permissions,  # noqa: F401  (registers this app's policies)
            threads,
        )
        from .demo import demo_step
        from .models import SignatureRequest

        # A conversation on each request: the client, the sender and back office; notes stay staff-side.
        register_thread_kind(
            SignatureRequest,
            can_read=threads.request_thread_can_read,
            can_write=threads.request_thread_can_read,
            is_staff_side=threads.request_thread_is_staff_side,
            participants=threads.request_thread_participants,
            url=threads.request_thread_url,
            subject=str,
            queryset=threads.request_thread_rows,
        )

        brokers = frozenset({Role.INTERMEDIARY, Role.FIRM_MANAGER})
        register(
            NavItem(label=_("Signature requests"), url_name="signing:request-list", roles=brokers, order=20),
            # The client zone's "Documents to sign", between its Portfolio and its Documents (clients/apps.py).
            NavItem(
                label=_("Documents to sign"),
                url_name="signing:inbox",
                roles=frozenset({Role.CLIENT}),
                order=5,
                active_for=frozenset({"signing:inbox-detail"}),
            ),
            NavItem(
                label=_("Verify PDF"),
                url_name="signing:verify",
                roles=frozenset({Role.BACKOFFICE, Role.COMPLIANCE}),
                order=91,
            ),
        )

        register_scope_group(
            "signature_requests",
            _("Signature requests"),
            description=_("List, write, send and cancel signature requests"),
            order=30,
        )
        both = {IN_APP, EMAIL}
        # Who receives which event, so that each sees only their own on the preference page.
        clients = {Role.CLIENT}
        senders = {Role.INTERMEDIARY, Role.FIRM_MANAGER}
        register_event(
            "signing.request_received",
            _("A request to sign"),
            default_channels=both,
            description=_("Your broker sent you a request or document to sign."),
            roles=clients,
        )
        register_event(
            "signing.request_changed",
            _("A request to sign was changed"),
            default_channels=both,
            description=_("The content of a request waiting for your signature changed."),
            roles=clients,
        )
        register_event(
            "signing.request_cancelled", _("A request to sign was withdrawn"), default_channels=both, roles=clients
        )
        for key, label in (
            ("signing.request_signed", _("Your client signed a request")),
            ("signing.request_declined", _("Your client declined a request")),
            ("signing.request_expired", _("A request expired unsigned")),
            ("signing.request_processed", _("The back office processed a signed request")),
            ("signing.request_returned", _("The back office returned a signed request")),
        ):
            register_event(key, label, default_channels=both, roles=senders)
        register_event(
            "signing.backoffice_received",
            _("A signed request arrived in the back office"),
            default_channels=both,
            roles={Role.BACKOFFICE},
        )
        register_event(
            "signing.client_locked",
            _("A client's signing was locked after wrong codes"),
            default_channels=both,
            required_channels={IN_APP},
            roles=senders | {Role.BACKOFFICE},
        )
        register_step(DemoStep(name="signature requests", run=demo_step, order=30))
        client_zone.register()
        evidence.register()  # the evidence pack of a signed request (portal/evidence)

        from portal.audit.actions import register_actions
        from portal.inbox.registry import register_inbox_kind

        from .inbox import KIND, signed_requests_inbox_sync

        # Signed requests wait in the back office's work inbox (their old page redirects there);
        # the back office's home counts them and links to the inbox filtered to them.
        register_inbox_kind(
            KIND,
            label=_("Signed request"),
            roles={Role.BACKOFFICE},
            order=10,
            sync=signed_requests_inbox_sync,
            count_label=_("Signed requests waiting"),
            count_order=10,
        )
        register_actions(
            {
                "signing.request_created": _("Signature request written"),
                "signing.request_changed": _("Signature request changed"),
                "signing.request_sent": _("Signature request sent"),
                "signing.request_viewed": _("Signature request opened by the client"),
                "signing.request_signed": _("Signature request signed"),
                "signing.request_declined": _("Signature request declined"),
                "signing.request_cancelled": _("Signature request withdrawn"),
                "signing.request_expired": _("Signature request expired"),
                "signing.request_processed": _("Signed request processed by the back office"),
                "signing.request_returned": _("Signed request returned by the back office"),
                "signing.attachment_added": _("Attachment added"),
                "signing.attachment_removed": _("Attachment removed"),
                "signing.code_sent": _("Signing code sent"),
                "signing.code_resent": _("Signing code sent again"),
                "signing.code_wrong": _("Wrong signing code"),
                "signing.challenge_used": _("Signing code used"),
                "signing.challenge_dead": _("Signing code blocked after wrong tries"),
                "signing.challenge_void": _("Signing code voided"),
                "signing.challenge_expired": _("Signing code expired"),
                "signing.client_locked": _("Client's signing locked"),
                "signing.integrity_failed": _("Signed content failed its integrity check"),
                "signing.pdf_rendered": _("Signed PDF made"),
                "signing.signed_pdf_downloaded": _("Signed PDF downloaded by the client"),
            }
        )
