from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.selectors import client_list

from .models import Report
from .permissions import for_any_firm


def last_year() -> tuple[date, date]:
    year = timezone.localdate().year - 1
    return date(year, 1, 1), date(year, 12, 31)


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=Report.Kind.choices)
    client = forms.CharField(label=_("Client number"), required=False, help_text=_("For client reports, e.g. C0001."))
    broker = forms.EmailField(
        label=_("Broker (e-mail)"), required=False, help_text=_("Inducements disclosure: whose commissions.")
    )
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actor, **kwargs):
        start, end = last_year()
        kwargs.setdefault("initial", {"period_start": start, "period_end": end})
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.any_firm = for_any_firm(actor)
        if not self.any_firm:
            # Brokers disclose their own commissions: no field to name someone else.
            del self.fields["broker"]

    def client_suggestions(self):
        """The first clients of the actor's book, for the input's datalist."""
        return client_list(actor=self.actor).order_by("number").values_list("number", "first_name", "last_name")[:200]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {"kind": data["kind"], "period_start": data["period_start"], "period_end": data["period_end"]}
        if data["kind"] == Report.Kind.INDUCEMENTS:
            email = data.get("broker") if self.any_firm else ""
            arguments["broker_id"] = self._user_id(email) if email else self.actor.pk
        else:
            number = (data.get("client") or "").strip()
            arguments["client_id"] = (
                client_list(actor=self.actor).filter(number__iexact=number).values_list("pk", flat=True).first()
                if number
                else None
            )
        return arguments

    @staticmethod
    def _user_id(email: str):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(email__iexact=email).values_list("pk", flat=True).first() or -1
