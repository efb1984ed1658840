"""The client book for signature requests: whom a broker may ask to sign, and their portfolios.

Registered with `signing` in apps.py. The people are the clients the client policy lets the actor
see (`clients.selectors.client_list`) that have a portal login; their accounts are their open
portfolios. signing stores only the answers (plain values), never these models.
"""

from clients.selectors import client_list
from signing.addressbook import Account, Addressee

from .models import Portfolio
from .selectors import portfolios_of


class ClientBook:
    def addressees(self, *, actor) -> list[Addressee]:
        return [self._addressee(client) for client in self._clients(actor)]

    def addressee(self, *, actor, key: str) -> Addressee | None:
        client = self._client(actor, key)
        return self._addressee(client) if client is not None else None

    def accounts(self, *, actor, key: str) -> list[Account]:
        client = self._client(actor, key)
        if client is None:
            return []
        return [
            Account(
                reference=str(portfolio.number),
                label=f"{portfolio.name} ({portfolio.number})",
                currency=portfolio.currency,
            )
            for portfolio in portfolios_of(client=client).exclude(status=Portfolio.Status.CLOSED)
        ]

    @staticmethod
    def _clients(actor):
        return client_list(actor=actor).filter(user__isnull=False)

    def _client(self, actor, key: str):
        try:
            pk = int(key)
        except (TypeError, ValueError):
            return None
        return self._clients(actor).filter(pk=pk).first()

    @staticmethod
    def _addressee(client) -> Addressee:
        return Addressee(key=str(client.pk), user_id=client.user_id, label=str(client))
