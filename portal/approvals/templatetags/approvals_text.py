"""`{{ approval.kind|approval_kind_label }}`: a kind's label in the language the text is read in
(notification texts keep the kind's key and look its label up when they are rendered)."""

from django import template

from portal.approvals.registry import kind_label

register = template.Library()


@register.filter
def approval_kind_label(key) -> str:
    return kind_label(str(key))
