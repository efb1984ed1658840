import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.accounts.roles import Role


class ShareForm(forms.Form):
    """A firm manager picks a broker of the firm to share a client with, or to revoke the share from."""

    broker = forms.ModelChoiceField(label=_("Broker"), queryset=get_user_model().objects.none())

    def __init__(self, *args, actor, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["broker"].queryset = (
            get_user_model()
            .objects.filter(organisation_id=actor.organisation_id, groups__name=Role.INTERMEDIARY)
            .exclude(pk=client.advisor_id)
            .order_by("last_name", "first_name")
        )


class PositionsDateForm(forms.Form):
    """The day of a positions page or export: empty for the latest valuation, else within the client's history."""

    date = forms.DateField(label=_("Positions on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, opened: datetime.date | None, latest: datetime.date | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened, self.latest = opened, latest

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is None:
            return None
        if self.latest and day > self.latest:
            raise forms.ValidationError(
                _("Positions are known until %(day)s; choose that day or an earlier one."),
                params={"day": date_format(self.latest, "SHORT_DATE_FORMAT")},
            )
        if self.opened and day < self.opened:
            raise forms.ValidationError(
                _("The first portfolio was opened on %(day)s; choose that day or a later one."),
                params={"day": date_format(self.opened, "SHORT_DATE_FORMAT")},
            )
        return day


CUSTOM_PERIOD = "custom"


class PerformanceRangeForm(forms.Form):
    """A reporting period by its code (1M, YTD, 1Y, 3Y, MAX …) or a custom range of days."""

    period = forms.ChoiceField(label=_("Period"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, periods, default: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default
        self.fields["period"].choices = [(code, code) for code in periods] + [(CUSTOM_PERIOD, _("Custom range"))]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        custom = data.get("period") == CUSTOM_PERIOD or start is not None or end is not None
        if not custom:
            data["period"] = data.get("period") or self.default
            return data
        data["period"] = CUSTOM_PERIOD
        if "start" not in self.errors and start is None:
            self.add_error("start", _("Give the first day of the range."))
        if "end" not in self.errors and end is None:
            self.add_error("end", _("Give the last day of the range."))
        if start is not None and end is not None and start > end:
            self.add_error("end", _("“To” must not be before “From”."))
        return data
