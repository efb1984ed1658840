from django import forms
from django.contrib.auth import get_user_model
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
