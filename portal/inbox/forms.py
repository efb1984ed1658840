from django import forms
from django.utils.translation import gettext_lazy as _

from . import registry


class InboxFilterForm(forms.Form):
    """The inbox's filters, shared by the page and its CSV export; the kinds are the actor's own."""

    kind = forms.ChoiceField(label=_("Kind"), required=False)
    assigned = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        choices=[("", _("Anyone")), ("me", _("To me")), ("unassigned", _("Nobody yet"))],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    status = forms.ChoiceField(
        label=_("Show"), required=False, choices=[("open", _("Open items")), ("closed", _("Closed items"))]
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[("age", _("Oldest first")), ("-age", _("Newest first")), ("due", _("Due first"))],
    )

    def __init__(self, data, *, actor):
        super().__init__(data)
        self.fields["kind"].choices = [("", _("Every kind"))] + [
            (kind.key, kind.label) for kind in registry.kinds_for(actor)
        ]

    def selection(self) -> dict:
        """The valid filter as the selector's arguments."""
        data = self.cleaned_data
        return {
            "kind": data["kind"] or None,
            "assigned": data["assigned"],
            "overdue": data["overdue"],
            "status": data["status"] or "open",
            "sort": data["sort"] or "age",
        }


class AssignForm(forms.Form):
    assignee = forms.IntegerField(
        label=_("Colleague"),
        error_messages={
            "required": _("Choose a colleague from the list."),
            "invalid": _("Choose a colleague from the list."),
        },
    )
