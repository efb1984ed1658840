"""The demo cast: the logins of the README, their firms and roles (and, at scale, many more)."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from portal.accounts.models import Organisation, User
from portal.accounts.roles import Role
from portal.accounts.services import audit_trail_readers_grant, role_groups_ensure
from portal.notifications.services import notify

DEMO_PASSWORD = "partnerzone-demo"  # noqa: S105 (published in the README for the demo)


# (e-mail, first, last, organisation, roles, staff, superuser, phone, language)
CAST = [
    ("admin@example.com", "Ada", "Admin", "Partnerzone Operations", [Role.BACKOFFICE], True, True, "", "en"),
    (
        "backoffice@example.com",
        "Bruno",
        "Backoffice",
        "Partnerzone Operations",
        [Role.BACKOFFICE],
        True,
        False,
        "+4915100000002",
        "de",
    ),
    (
        "manager@example.com",
        "Marta",
        "Manager",
        "Alpha Invest",
        [Role.FIRM_MANAGER],
        False,
        False,
        "+4915100000003",
        "de",
    ),
    (
        "broker1@example.com",
        "Boris",
        "Brandt",
        "Alpha Invest",
        [Role.INTERMEDIARY],
        False,
        False,
        "+4915100000004",
        "en",
    ),
    (
        "broker2@example.com",
        "Bianca",
        "Berger",
        "Alpha Invest",
        [Role.INTERMEDIARY],
        False,
        False,
        "+4915100000005",
        "de",
    ),
    (
        "broker3@example.com",
        "Bogdan",
        "Belov",
        "Beta Capital",
        [Role.INTERMEDIARY],
        False,
        False,
        "+4915100000006",
        "ru",
    ),
    (
        "merchant@example.com",
        "Mira",
        "Merchant",
        "Delta Shop",
        [Role.MERCHANT],
        False,
        False,
        "+4915100000021",
        "en",
    ),
    (
        "merchant2@example.com",
        "Emil",
        "Eckert",
        "Epsilon Store",
        [Role.MERCHANT],
        False,
        False,
        "+4915100000022",
        "de",
    ),
    ("client1@example.com", "Clara", "Schmidt", None, [Role.CLIENT], False, False, "+4915100000011", "de"),
    ("client2@example.com", "Carl", "Weber", None, [Role.CLIENT], False, False, "+4915100000012", "en"),
    ("client3@example.com", "Katya", "Ivanova", None, [Role.CLIENT], False, False, "+4915100000013", "ru"),
]

ORGANISATIONS = {
    "Partnerzone Operations": Organisation.Kind.OPERATOR,
    "Alpha Invest": Organisation.Kind.BROKER_FIRM,
    "Beta Capital": Organisation.Kind.BROKER_FIRM,
    "Delta Shop": Organisation.Kind.MERCHANT,
    "Epsilon Store": Organisation.Kind.MERCHANT,
}


def cast_ensure(*, stdout=None) -> dict[str, User]:
    """Create the demo cast if it is missing; running it again changes nothing."""
    from allauth.account.models import EmailAddress

    role_groups_ensure()
    audit_trail_readers_grant()
    password = make_password(DEMO_PASSWORD)
    organisations = {
        name: Organisation.objects.get_or_create(name=name, defaults={"kind": kind})[0]
        for name, kind in ORGANISATIONS.items()
    }
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    users = {}
    with transaction.atomic():
        for email, first, last, org, roles, staff, superuser, phone, language in CAST:
            user, created = User.objects.get_or_create(
                email=email,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "organisation": organisations.get(org),
                    "is_staff": staff,
                    "is_superuser": superuser,
                    "phone": phone,
                    "language": language,
                    "password": password,
                },
            )
            if phone and user.phone == phone and user.phone_verified_at is None:
                # The demo's numbers count as proven by SMS, so the demo clients can sign at once
                # (also in a database made before numbers were verified).
                user.phone_verified_at = timezone.now()
                user.save(update_fields=["phone_verified_at"])
            if created:
                user.groups.add(*(groups[r] for r in roles))
                EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
                notify(user=user, event="account.welcome", idempotency_key=f"welcome:{user.pk}")
            users[email.split("@")[0]] = user
    if stdout:
        stdout.write(f"Demo cast ready: {len(users)} users, password '{DEMO_PASSWORD}'.")
    return users


def large_population_ensure(*, brokers: int, clients: int, stdout=None) -> None:
    """Hundreds of firms' brokers and tens of thousands of client logins, in bulk (for benchmarks)."""
    from allauth.account.models import EmailAddress

    if User.objects.filter(email="large-broker-0001@example.com").exists():
        if stdout:
            stdout.write("Large population already present.")
        return
    password = make_password(DEMO_PASSWORD)
    groups = {g.name: g for g in Group.objects.filter(name__in=[Role.INTERMEDIARY, Role.CLIENT, Role.FIRM_MANAGER])}
    firms = Organisation.objects.bulk_create(
        [
            Organisation(name=f"Large Firm {n:03d}", kind=Organisation.Kind.BROKER_FIRM)
            for n in range(1, brokers // 10 + 1)
        ]
    )
    broker_users = [
        User(
            email=f"large-broker-{n:04d}@example.com",
            first_name="Broker",
            last_name=f"{n:04d}",
            organisation=firms[(n - 1) % len(firms)],
            password=password,
        )
        for n in range(1, brokers + 1)
    ]
    client_users = [
        User(email=f"large-client-{n:05d}@example.com", first_name="Client", last_name=f"{n:05d}", password=password)
        for n in range(1, clients + 1)
    ]
    with transaction.atomic():
        User.objects.bulk_create(broker_users + client_users, batch_size=2000)
        created = User.objects.filter(email__startswith="large-").only("id", "email")
        memberships, addresses = [], []
        through = User.groups.through
        for user in created.iterator(chunk_size=5000):
            role = Role.INTERMEDIARY if user.email.startswith("large-broker-") else Role.CLIENT
            memberships.append(through(user_id=user.id, group_id=groups[role].id))
            addresses.append(EmailAddress(user_id=user.id, email=user.email, verified=True, primary=True))
        through.objects.bulk_create(memberships, batch_size=5000)
        EmailAddress.objects.bulk_create(addresses, batch_size=5000)
    if stdout:
        stdout.write(f"Large population: {len(firms)} firms, {brokers} brokers, {clients} clients.")
