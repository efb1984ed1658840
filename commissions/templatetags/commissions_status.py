"""A statement's payout status as its reader may know it (back office sees a rejection; the
beneficiary and their firm read "in review" until a statement is approved)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from commissions.models import IN_REVIEW, Statement

register = template.Library()

BADGES = {
    Statement.Status.PAID: "text-bg-success",
    Statement.Status.APPROVED: "text-bg-primary",
    Statement.Status.PREPARED: "text-bg-warning",
    Statement.Status.REJECTED: "text-bg-danger",
    IN_REVIEW: "text-bg-warning",
}


def status_label(statement, sees_everything: bool) -> str:
    status = statement.status_seen_by(sees_everything)
    return _("In review") if status == IN_REVIEW else statement.get_status_display()


@register.simple_tag
def statement_status(statement, sees_everything):
    status = statement.status_seen_by(bool(sees_everything))
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        BADGES.get(status, "text-bg-secondary"),
        status,
        status_label(statement, bool(sees_everything)),
    )
