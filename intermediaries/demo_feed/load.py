"""For `manage.py demo`: core-system numbers for the demo's brokers, then fresh feeds and their import."""

from pathlib import Path

from django.db import transaction

from portal.accounts.models import User

from ..feed import core_feed_import
from ..models import Intermediary
from .write import demo_feed_write

DEMO_CAST_INTERMEDIARIES = {
    "broker1@example.com": "B0001",
    "broker2@example.com": "B0002",
    "broker3@example.com": "B0003",
}


def intermediaries_ensure_for_demo_cast() -> int:
    """Give broker1-3@example.com their core-system numbers B0001-B0003, if those users exist.

    Returns how many were created; running it again creates none.
    """
    created = 0
    users = User.objects.filter(email__in=DEMO_CAST_INTERMEDIARIES, organisation__isnull=False)
    with transaction.atomic():
        for user in users:
            _, was_created = Intermediary.objects.get_or_create(
                user=user, defaults={"number": DEMO_CAST_INTERMEDIARIES[user.email], "firm_id": user.organisation_id}
            )
            created += was_created
    return created


def large_intermediaries_ensure() -> int:
    """Give every large-broker-NNNN@example.com the number LNNNN, its firm being its organisation."""
    users = User.objects.filter(
        email__startswith="large-broker-", organisation__isnull=False, intermediary__isnull=True
    ).values_list("id", "email", "organisation_id")
    rows = [
        Intermediary(user_id=user_id, number=f"L{email.removeprefix('large-broker-').split('@')[0]}", firm_id=firm_id)
        for user_id, email, firm_id in users
    ]
    with transaction.atomic():
        Intermediary.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def demo_feed_load(*, scale: str, directory: Path, stdout=None) -> list:
    """For `manage.py demo`: numbers for the brokers, fresh feeds under `directory`, and their import.

    The small feed is always loaded (the named cast's clients); the large scale adds the large feed.
    Returns the FeedReport of each import.
    """
    intermediaries_ensure_for_demo_cast()
    if scale == "large":
        large_intermediaries_ensure()
    reports = []
    for feed_scale in ("small", "large") if scale == "large" else ("small",):
        feed_directory = Path(directory) / feed_scale
        demo_feed_write(directory=feed_directory, scale=feed_scale)
        report = core_feed_import(directory=feed_directory)
        reports.append(report)
        if stdout:
            for file_report in report.files:
                counts = file_report.summary()
                stdout.write(
                    f"Core feed ({feed_scale}) {file_report.file}: {counts['created']} created, "
                    f"{counts['updated']} updated, {counts['unchanged']} unchanged, {counts['errors']} bad rows"
                )
    return reports
