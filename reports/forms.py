from datetime import date

from django import forms
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from clients.selectors import client_rows

from .models import Report
from .permissions import for_any_firm
from .selectors import CLIENT_SEARCH_LIMIT, report_client_search


def last_year() -> tuple[date, date]:
    year = timezone.localdate().year - 1
    return date(year, 1, 1), date(year, 12, 31)


class ReportRequestForm(forms.Form):
    """The report request; the client is picked from a search over the actor's own clients.

    `client` is the picked client's id (a radio button of the search results); `client_q` the search
    text. Without a pick, a search text that names exactly one client (its number, or words of its
    name) picks that one, so the form works without JavaScript too. Whether the actor may use the
    client is the service's decision.
    """

    kind = forms.ChoiceField(label=_("Report"), choices=Report.Kind.choices)
    client = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    client_q = forms.CharField(
        label=_("Client"),
        required=False,
        max_length=100,
        help_text=_("For client reports: type part of the name or the client number, then choose."),
    )
    broker = forms.EmailField(
        label=_("Broker (e-mail)"), required=False, help_text=_("Inducements disclosure: whose commissions.")
    )
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, actor, initial_client=None, **kwargs):
        start, end = last_year()
        initial = {"period_start": start, "period_end": end}
        if initial_client is not None:
            initial["client"] = initial_client.pk
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.initial_client = initial_client
        self.any_firm = for_any_firm(actor)
        self.matches: list | None = None
        if not self.any_firm:
            # Brokers disclose their own commissions: no field to name someone else.
            del self.fields["broker"]

    def clean(self):
        data = super().clean()
        if data.get("kind") == Report.Kind.INDUCEMENTS or data.get("client"):
            return data
        query = (data.get("client_q") or "").strip()
        if not query:
            return data  # the service says that a client report needs a client
        self.matches = report_client_search(actor=self.actor, query=query)
        if len(self.matches) == 1:
            data["client"] = self.matches[0].pk
        elif not self.matches:
            self.add_error("client_q", _("None of your clients matches “%(query)s”.") % {"query": query})
        else:
            self.add_error("client_q", _("Several of your clients match “%(query)s”: choose one.") % {"query": query})
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {"kind": data["kind"], "period_start": data["period_start"], "period_end": data["period_end"]}
        if data["kind"] == Report.Kind.INDUCEMENTS:
            email = data.get("broker") if self.any_firm else ""
            arguments["broker_id"] = self._user_id(email) if email else self.actor.pk
        else:
            arguments["client_id"] = data.get("client")
        return arguments

    # --- what the client picker shows ------------------------------------------------------

    @cached_property
    def picked_id(self):
        """The client id the form holds (picked or named), for the radio that is checked."""
        if self.is_bound:
            value = (self.cleaned_data.get("client") if hasattr(self, "cleaned_data") else None) or self.data.get(
                "client"
            )
        else:
            value = self.initial.get("client")
        try:
            value = int(value)
        except (TypeError, ValueError):
            return None
        return value if 0 < value < 2**63 else None

    @cached_property
    def client_choices(self) -> list:
        """The clients to choose from: the search results, with the picked client first if it is
        not among them (so a pick is never hidden), or the initial client before any search."""
        query = str((self.data if self.is_bound else self.initial).get("client_q") or "").strip()
        if self.matches is None and query:
            self.matches = report_client_search(actor=self.actor, query=query)
        shown = list(self.matches[:CLIENT_SEARCH_LIMIT]) if self.matches is not None else []
        picked = self.picked_id
        if picked is not None and picked not in {c.pk for c in shown}:
            if self.initial_client is not None and self.initial_client.pk == picked:
                shown.insert(0, self.initial_client)
            else:
                shown[:0] = client_rows(actor=self.actor).filter(pk=picked)[:1]
        return shown

    @property
    def more_matches(self) -> bool:
        return self.matches is not None and len(self.matches) > CLIENT_SEARCH_LIMIT

    @staticmethod
    def _user_id(email: str):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(email__iexact=email).values_list("pk", flat=True).first() or -1
