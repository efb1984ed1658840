from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BnplConfig(AppConfig):
    """Buy now, pay later: merchants and their checkout API, credit decisions, instalment plans,
    collections, fees and shipment tracking (seed 001)."""

    name = "bnpl"
    label = "bnpl"
    verbose_name = _("Buy now, pay later")

    def _checkout_ready(self):
        """The hosted checkout has its agreements signed through signing: its sender and address book."""
        from signing.addressbook import register_address_book, register_writer

        from .agreements import ShopperBook, is_service_user

        register_address_book(ShopperBook())
        register_writer(is_service_user)

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.audit.actions import register_actions
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register

        from . import permissions  # noqa: F401  (registers the policies)
        from .demo import demo_step
        from .events import shipment_status_changed
        from .roles import staff_permissions_grant
        from .webhook_tasks import deliver_webhook  # noqa: F401  (the worker finds the webhook tasks)
        from .webhooks import on_shipment_status_changed

        self._decisions_ready()
        self._orders_ready()
        self._collections_ready()
        self._checkout_ready()

        register_scope_group(
            "bnpl",
            _("Buy now, pay later"),
            description=_("Payment sessions, orders and buy buttons of your shop (/api/v1/bnpl/)"),
            order=40,
        )
        register_actions(
            {
                "bnpl.merchant_created": _("BNPL merchant set up"),
                "bnpl.webhook_secret_rotated": _("BNPL webhook secret replaced"),
                "bnpl.shopper_created": _("BNPL shopper profile created"),
                "bnpl.session_created": _("BNPL payment session opened"),
                "bnpl.order_decided": _("BNPL order checked by the credit rules"),
                "bnpl.purchase_review_prepared": _("BNPL purchase review prepared"),
                "bnpl.purchase_approved": _("BNPL purchase approved in review"),
                "bnpl.purchase_declined": _("BNPL purchase declined in review"),
                "bnpl.credit_rule_created": _("BNPL credit rule added"),
                "bnpl.credit_rule_changed": _("BNPL credit rule changed"),
                "bnpl.credit_rule_deactivated": _("BNPL credit rule switched off"),
                "bnpl.credit_rules_combine_changed": _("BNPL credit rules' combination changed"),
                "bnpl.purchase_limit_set": _("BNPL purchase limit set"),
                "bnpl.fee_charged": _("BNPL fee charged"),
                "bnpl.fee_status_changed": _("BNPL fee status changed"),
                "bnpl.fee_schedule_created": _("BNPL fee schedule added"),
                "bnpl.fee_status_rule_created": _("BNPL fee status rule added"),
                "bnpl.customer_group_created": _("BNPL customer group added"),
                "bnpl.shopper_group_set": _("BNPL shopper's customer group changed"),
                "bnpl.order_captured": _("BNPL order captured"),
                "bnpl.order_shipped": _("BNPL order shipped, plan started"),
                "bnpl.order_cancelled": _("BNPL order cancelled"),
                "bnpl.order_refunded": _("BNPL order refunded"),
                "bnpl.order_tracking_updated": _("BNPL order's shipment status changed"),
                "bnpl.webhook_resent": _("BNPL webhook sent again"),
                "bnpl.webhook_url_changed": _("BNPL webhook URL changed"),
                "bnpl.mandate_granted": _("BNPL direct debit mandate granted"),
                "bnpl.mandate_revoked": _("BNPL direct debit mandate revoked"),
                "bnpl.button_created": _("BNPL buy button made"),
                "bnpl.button_changed": _("BNPL buy button changed"),
                "bnpl.button_deactivated": _("BNPL buy button switched off"),
                "bnpl.button_activated": _("BNPL buy button switched on"),
                "bnpl.confirmation_url_changed": _("BNPL order confirmation URL changed"),
                "bnpl.instant_confirmed": _("BNPL instant purchase confirmed by the shop"),
                "bnpl.instant_declined": _("BNPL instant purchase declined"),
                "bnpl.shopper_registered": _("BNPL shopper registered at the checkout"),
                "bnpl.checkout_option_chosen": _("BNPL payment option chosen at the checkout"),
                "bnpl.checkout_agreement_written": _("BNPL credit agreement sent for signature"),
                "bnpl.checkout_placed": _("BNPL order placed at the checkout"),
                "bnpl.session_repriced": _("BNPL payment session's lines changed"),
            }
        )
        register(
            NavItem(
                label=_("Shop dashboard"),
                url_name="bnpl:merchant-orders",
                roles=frozenset({Role.MERCHANT}),
                order=5,
                active_for=frozenset(
                    {
                        "bnpl:merchant-webhooks",
                        "bnpl:merchant-settings",
                        "bnpl:merchant-buttons",
                        "bnpl:merchant-button-new",
                        "bnpl:merchant-button-edit",
                        "bnpl:merchant-confirmations",
                    }
                ),
            )
        )
        shipment_status_changed.connect(on_shipment_status_changed, dispatch_uid="bnpl-webhooks-shipment")
        register_step(DemoStep(name="bnpl: merchants, a shopper, payment sessions", run=demo_step, order=60))
        from .instant_demo import instant_demo_step

        register_step(DemoStep(name="bnpl: buy buttons and an instant purchase", run=instant_demo_step, order=62))
        from portal.accounts.roles import Role
        from portal.core.navigation import NavItem, register

        from . import fees_permissions, fees_tasks  # noqa: F401  (the fee module's policies and beat task)
        from .fees_demo import fees_demo_step

        register_step(
            DemoStep(name="bnpl: fee schedules, a customer group, status rules", run=fees_demo_step, order=61)
        )
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        register_event(
            "bnpl.fee_charged",
            _("A fee was charged"),
            default_channels=frozenset({IN_APP, EMAIL}),
            description=_("A late or dunning fee was charged on an instalment of yours."),
            roles=frozenset({Role.CLIENT}),
        )
        register(NavItem(label=_("Fees"), url_name="bnpl:fees", roles=frozenset({Role.BACKOFFICE}), order=93))
        post_migrate.connect(staff_permissions_grant, sender=self, dispatch_uid="bnpl.staff_permissions")

    def _decisions_ready(self):
        """The decision module: manual review through the approval engine and the work inbox (bnpl/decisions.py)."""
        from portal.accounts.roles import Role
        from portal.approvals.events import approval_decided
        from portal.approvals.registry import register_approval_kind
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.inbox.registry import register_inbox_kind

        from . import decision_policies  # noqa: F401  (registers the decision module's policies)
        from .decisions import PURCHASE_KIND, REVIEW_KIND, purchase_decided, purchase_describe, purchase_maker
        from .demo import decisions_demo_step
        from .models import Order

        # The seed's two people: a credit analyst prepares ("user"), back office approves (administrator).
        register_approval_kind(
            PURCHASE_KIND,
            model=Order,
            label=_("BNPL purchase approval"),
            approver_roles={Role.BACKOFFICE},
            approvers_required=1,
            # Approving credit is a sensitive action: a session verified by a second factor (style.md).
            second_factor=True,
            alert_roles={Role.BACKOFFICE},
            describe=purchase_describe,
            maker_of=purchase_maker,
            inbox_count_label=_("BNPL purchases to approve"),
        )
        approval_decided.connect(purchase_decided, dispatch_uid="bnpl.purchase_decided")
        register_inbox_kind(
            REVIEW_KIND,
            label=_("BNPL purchase to review"),
            roles={Role.CREDIT_ANALYST},
            order=40,
            count_label=_("BNPL purchases to review"),
        )
        register(
            NavItem(label=_("Credit rules"), url_name="bnpl:credit-rules", roles=frozenset({Role.BACKOFFICE}), order=45)
        )
        register(
            NavItem(
                label=_("Purchase reviews"),
                url_name="bnpl:review-list",
                roles=frozenset({Role.CREDIT_ANALYST, Role.BACKOFFICE}),
                order=46,
            )
        )
        register_step(DemoStep(name="bnpl: credit rules and a purchase in review", run=decisions_demo_step, order=61))

    def _orders_ready(self):
        """The order lifecycle (bnpl/orders.py): its messages, its inbox kind and the carrier's statuses."""
        from portal.accounts.roles import Role
        from portal.inbox.registry import register_inbox_kind
        from portal.notifications.attachments import register_attachment
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from .events import shipment_status_changed
        from .order_tracking import DISPUTE_KIND, on_shipment_status_changed
        from .schedule_pdf import SCHEDULE_ATTACHMENT, schedule_pdf_attachment

        # The schedule e-mail carries the schedule as a PDF, made when the mail leaves.
        register_attachment(SCHEDULE_ATTACHMENT, schedule_pdf_attachment)

        register_event(
            "bnpl.schedule_ready",
            _("Payment schedule of a shipped order"),
            default_channels={IN_APP, EMAIL},
            description=_("When a shop ships your order and your instalments start."),
        )
        register_event(
            "bnpl.refund_issued",
            _("Refund of an order"),
            default_channels={IN_APP, EMAIL},
            description=_("When a shop refunds your order and your schedule changes."),
        )
        register_event(
            "bnpl.shipment_status",
            _("Shipment of an order"),
            default_channels={IN_APP, EMAIL},
            description=_("When your order is on its way, delivered or returned."),
        )
        register_inbox_kind(
            DISPUTE_KIND,
            label=_("Returned or undelivered order"),
            roles={Role.BACKOFFICE},
            order=60,
            count_label=_("Order disputes open"),
            count_order=60,
        )
        shipment_status_changed.connect(on_shipment_status_changed, dispatch_uid="bnpl-orders-shipment")

    def _collections_ready(self):
        """Collections (runs, statements, reconciliation), dunning and dispute decisions (docs/bnpl-collections.md)."""
        from portal.accounts.roles import Role
        from portal.audit.actions import register_actions
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.inbox.registry import register_inbox_kind
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import collection_permissions, collection_tasks  # noqa: F401  (policies and beat tasks)
        from .collections_demo import collections_demo_step
        from .statements import RECONCILIATION_KIND

        register_inbox_kind(
            RECONCILIATION_KIND,
            label=_("Unmatched bank statement line"),
            roles={Role.BACKOFFICE},
            order=61,
            count_label=_("Bank statement lines to reconcile"),
            count_order=61,
        )
        register_event(
            "bnpl.dunning_notice",
            _("Payment reminder"),
            default_channels=frozenset({IN_APP, EMAIL}),
            description=_("An instalment of yours is overdue."),
            roles=frozenset({Role.CLIENT}),
        )
        register_event(
            "bnpl.debit_returned",
            _("Direct debit returned"),
            default_channels=frozenset({IN_APP, EMAIL}),
            description=_("Your bank sent back the direct debit of an instalment."),
            roles=frozenset({Role.CLIENT}),
        )
        register_event(
            "bnpl.dispute_decided",
            _("Decision on a returned or undelivered order"),
            default_channels=frozenset({IN_APP, EMAIL}),
            description=_("When we have decided how your returned or undelivered order goes on."),
            roles=frozenset({Role.CLIENT}),
        )
        register_actions(
            {
                "bnpl.collection_run_prepared": _("BNPL direct debit run prepared"),
                "bnpl.collection_run_cancelled": _("BNPL direct debit run cancelled"),
                "bnpl.bank_statement_imported": _("BNPL bank statement imported"),
                "bnpl.statement_line_assigned": _("BNPL statement line assigned to an instalment"),
                "bnpl.statement_line_dismissed": _("BNPL statement line dismissed"),
                "bnpl.dunning_notice_sent": _("BNPL dunning notice sent"),
                "bnpl.dispute_resumed": _("BNPL dispute decided: schedule resumed"),
                "bnpl.dispute_cancelled": _("BNPL dispute decided: cancelled with refund"),
            }
        )
        register(
            NavItem(
                label=_("Collections"),
                url_name="bnpl:collections",
                roles=frozenset({Role.BACKOFFICE}),
                order=94,
                active_for=frozenset({"bnpl:collection-run", "bnpl:statement", "bnpl:statement-line", "bnpl:dispute"}),
            )
        )
        register_step(
            DemoStep(
                name="bnpl: a collection run, a bank statement, dunning, a dispute", run=collections_demo_step, order=62
            )
        )
