"""Demo data for the client's profile: client1 has a copy of their data ready to download.

The mobile numbers of client1-3 are verified by the demo cast (`portal/shell/demo.py`). Running
it again changes nothing.
"""

from django.contrib.auth import get_user_model

from .models import DataExport


def demo_step(*, scale: str, stdout) -> None:
    from .exports import data_export_build
    from .services import data_export_request

    user = get_user_model().objects.filter(email="client1@example.com").first()
    if user is None or not hasattr(user, "client_profile"):
        stdout.write("  client profile: client1 has no client record; nothing to do.")
        return
    if DataExport.objects.filter(user=user).exists():
        stdout.write("  client profile: client1's data export already present.")
        return
    export = data_export_request(actor=user)
    # The demo runs tasks eagerly, but build here anyway so a demo with a worker has it at once too.
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    stdout.write(f"  client profile: client1's data export is {export.status}.")


def thread_demo_step(*, scale: str, stdout) -> None:
    """client1 asks their adviser a question, the adviser notes something for the firm and answers."""
    from portal.threads.selectors import thread_of
    from portal.threads.services import message_post

    from .models import Client

    client = Client.objects.select_related("user", "advisor").filter(user__email="client1@example.com").first()
    if client is None or client.advisor is None:
        stdout.write("  client conversation: client1 has no client record with an adviser; nothing to do.")
        return
    if thread_of(client) is not None:
        stdout.write("  client conversation: already present.")
        return
    adviser = client.advisor
    message_post(
        actor=client.user,
        obj=client,
        body="Hello, I would like to put part of my savings into a sustainable fund. Could we talk about it?",
    )
    message_post(
        actor=adviser,
        obj=client,
        body="Client prefers low volatility; check the suitability profile before proposing equity funds.",
        internal=True,
    )
    message_post(
        actor=adviser,
        obj=client,
        body="Gladly! I will prepare two proposals and send them to you this week.",
    )
    stdout.write(f"  client conversation: client1 and {adviser.email}, with an internal note.")
