"""The conversation between an end client and their broker: a thread on the client's record.

- customer side: the client's own login (reads and writes, never sees internal notes);
- staff side: whoever may view the client by the client policy — the advisor, a broker the client
  is shared with, the firm manager (read and write, internal notes included), and back office and
  compliance (read only: they oversee, the broker answers).
"""

from django.urls import NoReverseMatch, reverse

from portal.accounts.roles import BROKER_ROLES

from . import permissions
from .models import Client


def _is_customer(actor, client: Client) -> bool:
    return client.user_id is not None and client.user_id == actor.pk


def client_thread_can_read(actor, client: Client) -> bool:
    return permissions.clients.has(actor, client, "view")


def client_thread_can_write(actor, client: Client) -> bool:
    if _is_customer(actor, client):
        return True
    return actor.has_role(*BROKER_ROLES) and permissions.clients.has(actor, client, "view")


def client_thread_is_staff_side(actor, client: Client) -> bool:
    return not _is_customer(actor, client) and permissions.clients.has(actor, client, "view")


def client_thread_participants(client: Client) -> list:
    """Told of new messages: the client's login and their adviser."""
    return [user for user in (client.user, client.advisor) if user is not None]


def client_thread_url(client: Client, actor) -> str:
    """Where `actor` reads the conversation: the client zone's adviser page, or the broker's page of
    the client. That page belongs to the broker workspace above this app, named here by URL only."""
    if _is_customer(actor, client):
        return reverse("clients:adviser") + "#thread"
    try:
        return reverse("intermediaries:client-detail", args=[client.pk]) + "#thread"
    except NoReverseMatch:  # a deployment without the broker workspace
        return ""


def client_thread_subject(client: Client) -> str:
    return client.name


def client_thread_rows():
    return Client.objects.select_related("user", "advisor")


def client_thread_export(client: Client):
    """For "download my data": the conversation as the client sees it (never an internal note), with
    the files of its messages."""
    from portal.core.client_zone import ExportFile
    from portal.threads.selectors import thread_messages

    if client.user is None or not client.user.is_active:
        return [], []
    messages = thread_messages(actor=client.user, obj=client, limit=None)
    data, files = [], []
    for message in messages:
        names = []
        for attachment in message.attachments.all():
            name = f"messages/{message.pk}-{attachment.pk}-{attachment.name}"
            names.append(name)
            files.append(ExportFile(name=name, content=_reader(attachment)))
        data.append(
            {
                "written": message.created_at.isoformat(),
                "author": "you" if message.author_id == client.user_id else str(message.author),
                "text": message.body,
                "attachments": names,
            }
        )
    return data, files


def _reader(attachment):
    def read() -> bytes:
        with attachment.file.open("rb") as handle:
            return handle.read()

    return read
