from django import forms
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import OutboxMessage


def preference_field_name(event_key: str, channel: str) -> str:
    return f"{event_key}__{channel}"


class PreferencesForm(forms.Form):
    """A checkbox per event type and channel; channels that cannot be switched off are disabled."""

    def __init__(self, *args, rows: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for row in rows:
            event = row["event"]
            cells = []
            for channel in registry.CHANNELS:
                if channel not in event.channels:
                    cells.append(None)
                    continue
                name = preference_field_name(event.key, channel)
                self.fields[name] = forms.BooleanField(
                    label=f"{event.label}: {registry.CHANNEL_LABELS[channel]}",
                    required=False,
                    initial=row["current"][channel],
                    disabled=channel in event.required_channels,
                    widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
                )
                cells.append(name)
            self.rows.append({"event": event, "cells": cells})

    def choices(self) -> dict[str, dict[str, bool]]:
        """The cleaned form as {event key: {channel: on}} for services.preferences_set."""
        result = {}
        for row in self.rows:
            event = row["event"]
            result[event.key] = {
                channel: bool(self.cleaned_data.get(preference_field_name(event.key, channel), False))
                for channel in registry.CHANNELS
            }
        return result

    def table(self):
        """Rows for the template: the event and its bound fields (None where a channel does not apply)."""
        return [
            {"event": row["event"], "cells": [self[name] if name else None for name in row["cells"]]}
            for row in self.rows
        ]


class OutboxFilterForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *OutboxMessage.Channel.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *OutboxMessage.Status.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "type": "search"}),
    )
