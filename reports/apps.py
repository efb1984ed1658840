from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from django.db.models.signals import post_migrate

        from clients.zone import register_document_source, register_export_part
        from portal.accounts.roles import Role
        from portal.api.scopes import register_scope_group
        from portal.core.demo import DemoStep, register_step
        from portal.core.navigation import NavItem, register
        from portal.notifications.registry import EMAIL, IN_APP, register_event

        from . import permissions  # noqa: F401  (registers this app's policies)
        from .demo import demo_step
        from .roles import backoffice_permissions_grant
        from .zone import export_part, source

        register(
            NavItem(
                label=_("Reports"),
                url_name="reports:report-list",
                roles=frozenset({Role.INTERMEDIARY, Role.FIRM_MANAGER, Role.BACKOFFICE, Role.COMPLIANCE}),
                order=30,
            )
        )
        register_scope_group(
            "reports",
            _("Reports"),
            description=_("Request regulatory reports, follow their status, download the PDFs"),
            order=30,
        )
        register_event(
            "reports.ready",
            _("Report ready"),
            default_channels={IN_APP, EMAIL},
            description=_("When a report you requested is ready to download."),
            roles={Role.INTERMEDIARY, Role.FIRM_MANAGER, Role.BACKOFFICE, Role.COMPLIANCE},
        )
        register_event(
            "reports.statement_ready",
            _("New statement"),
            default_channels={IN_APP, EMAIL},
            description=_("When your portfolio statement or your costs and charges statement is ready."),
            roles={Role.CLIENT},
        )
        # A client's statements are documents of the client zone and part of "download my data".
        register_document_source(source)
        register_export_part(export_part)
        register_step(DemoStep(name="reports: statements for broker1 and the demo clients", run=demo_step, order=40))
        post_migrate.connect(backoffice_permissions_grant, sender=self, dispatch_uid="reports.backoffice_permissions")

        from portal.audit.actions import register_actions
        from portal.core.work import register_work_count

        from .models import Report
        from .selectors import report_list

        register_work_count(
            _("Reports failed"),
            "admin:reports_report_changelist",
            {Role.BACKOFFICE},
            lambda *, actor: report_list(actor=actor).filter(status=Report.Status.FAILED).count(),
            query="status__exact=failed",
            order=30,
            tone="warning",
        )
        register_actions(
            {
                "reports.requested": _("Report requested"),
                "reports.issued": _("Client statement issued on schedule"),
                "reports.statement_downloaded": _("Statement downloaded by the client"),
                "reports.rendered": _("Report made"),
                "reports.failed": _("Report failed"),
                "reports.requeued": _("Report queued again"),
            }
        )
