"""The BNPL API benchmark's data set, built fast in its own database (benchmarks/bench_bnpl_api.py).

Run inside Django (`manage.py shell -c "from benchmarks.bnpl_dataset import build; build(...)"`):
merchants with a merchant user and an API key each go through the services (a hundred of them);
the bulk — shoppers' users, shoppers, shipped orders with active plans, and the orders waiting for
their credit decision — is written by `INSERT … SELECT generate_series(…)` inside PostgreSQL, which
writes a million rows in seconds where the ORM would take an hour. Plans carry no instalment rows:
neither endpoint measured reads them. Running it again on a built database only writes the files.

Writes three files for the load generator and prints their paths:
- keys: "<api key>\\t0" per merchant (session bodies rotate over the merchants),
- decide: "<api key>\\t<order id>" per order waiting for its decision, the key of its own merchant,
- floor: "sessionid=…; csrftoken=…\\t0" per merchant user (the portal floor is a signed-in request).
"""

import datetime
import tempfile
from pathlib import Path

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from bnpl import services as bnpl_services
from bnpl.decision_rules import credit_rule_create
from bnpl.models import CreditRule, Merchant, Order
from portal.accounts.models import Organisation
from portal.accounts.roles import Role
from portal.api import services as api_services
from portal.api.models import ApiKey
from portal.api.scopes import WRITE

SCALES = {
    # merchants, customers, plans (shipped orders), orders waiting for a decision
    "full": (100, 200_000, 1_000_000, 100_000),
    "small": (5, 1_000, 3_000, 1_500),
}
DOMAIN = "bench.example"


def build(*, scale: str = "full") -> None:
    merchants, customers, plans, pending = SCALES[scale]
    keys = _merchants(merchants)
    _rules()
    with connection.cursor() as cursor:
        _bulk(cursor, customers=customers, plans=plans, pending=pending)
    decide = list(
        Order.objects.filter(reference__startswith="BENCH-DEC-", state=Order.State.PENDING_DECISION)
        .order_by("pk")
        .values_list("pk", "merchant_id")
    )
    by_merchant = {merchant_id: key for merchant_id, key in keys}
    files = {
        "keys": [f"{key}\t0" for _merchant, key in keys],
        "decide": [f"{by_merchant[merchant]}\t{pk}" for pk, merchant in decide if merchant in by_merchant],
        "floor": _floor_sessions(),
    }
    for name, lines in files.items():
        path = Path(tempfile.mkstemp(prefix=f"pz-bnpl-{name}-", suffix=".txt")[1])
        path.write_text("".join(line + "\n" for line in lines))
        print(f"FILE\t{name}\t{path}\t{len(lines)}")


def _merchants(count: int) -> list[tuple[int, str]]:
    """`count` merchant organisations, each with a merchant user, its BNPL merchant and a fresh API key.

    Keys are shown once, so every build makes new ones and revokes the ones of earlier builds.
    """
    group, _created = Group.objects.get_or_create(name=Role.MERCHANT)
    keys = []
    for number in range(1, count + 1):
        organisation, _created = Organisation.objects.get_or_create(
            name=f"Bench Shop {number:03d}", defaults={"kind": Organisation.Kind.MERCHANT}
        )
        user, created = get_user_model().objects.get_or_create(
            email=f"merchant{number:03d}@{DOMAIN}",
            defaults={"organisation": organisation, "first_name": "Bench", "last_name": f"Shop {number}"},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(group)
        merchant = Merchant.objects.filter(organisation=organisation).first()
        if merchant is None:
            merchant, _secret = bnpl_services.merchant_create(
                actor=None, organisation=organisation, trading_name=organisation.name
            )
        for old in ApiKey.objects.filter(owner=user, revoked_at__isnull=True):
            api_services.api_key_revoke(actor=user, second_factor_verified=True, key_id=old.pk)
        _key, secret = api_services.api_key_create(
            actor=user, second_factor_verified=True, name=f"bench {timezone.now():%Y%m%d%H%M%S}", scopes={"bnpl": WRITE}
        )
        keys.append((merchant.pk, secret))
    return keys


def _rules() -> None:
    """Two active credit rules, so a decision evaluates rules as in production."""
    if CreditRule.objects.filter(active=True).exists():
        return
    actor = get_user_model().objects.filter(groups__name=Role.BACKOFFICE).first()
    if actor is None:
        actor, _created = get_user_model().objects.get_or_create(email=f"backoffice@{DOMAIN}")
        actor.groups.add(Group.objects.get_or_create(name=Role.BACKOFFICE)[0])
    credit_rule_create(actor=actor, name="Adults only", fact="age", operator="ge", value="18")
    credit_rule_create(actor=actor, name="KYC done", fact="kyc_passed", operator="is_true")


def _bulk(cursor, *, customers: int, plans: int, pending: int) -> None:
    """The bulk rows, each kind written once (a rebuilt database keeps what it has)."""
    cursor.execute("SELECT count(*) FROM accounts_user WHERE email LIKE %s", [f"shopper%@{DOMAIN}"])
    built = cursor.fetchone()[0]
    if built == customers:
        return
    if built:
        raise SystemExit(f"The database holds another scale's data set ({built} shoppers): drop it and build again.")
    client_group = Group.objects.get_or_create(name=Role.CLIENT)[0].pk
    with transaction.atomic():
        cursor.execute(
            """
            INSERT INTO accounts_user (password, is_superuser, is_staff, is_active, date_joined, first_name,
                                       last_name, email, phone, language)
            SELECT '!', false, false, true, now(), 'Bench', 'Shopper ' || g, 'shopper' || g || '@' || %s, '', 'en'
            FROM generate_series(1, %s) AS g
            """,
            [DOMAIN, customers],
        )
        cursor.execute(
            """
            INSERT INTO accounts_user_groups (user_id, group_id)
            SELECT id, %s FROM accounts_user WHERE email LIKE %s
            """,
            [client_group, f"shopper%@{DOMAIN}"],
        )
        cursor.execute(
            """
            INSERT INTO bnpl_shopper (region, date_of_birth, purchase_limit, purchase_limit_currency, kyc_passed,
                                      kyc_passed_at, created_at, user_id)
            SELECT 'DE-BE', date '1985-01-01' + (id %% 7000)::int, 2000.00, 'EUR', true, now(), now(), id
            FROM accounts_user WHERE email LIKE %s
            """,
            [f"shopper%@{DOMAIN}"],
        )
        for prefix, count, state in (("BENCH-", plans, "shipped"), ("BENCH-DEC-", pending, "pending_decision")):
            cursor.execute(
                """
                WITH shoppers AS (SELECT array_agg(s.id ORDER BY s.id) AS ids FROM bnpl_shopper s
                                  JOIN accounts_user u ON u.id = s.user_id WHERE u.email LIKE %s),
                     shops AS (SELECT array_agg(m.id ORDER BY m.id) AS ids FROM bnpl_merchant m
                               JOIN accounts_organisation o ON o.id = m.organisation_id WHERE o.name LIKE 'Bench Shop %%')
                INSERT INTO bnpl_order (reference, amount, currency, state, option_key, refunded_amount, shipped_at,
                                        carrier, tracking_number, tracking_status, created_at, updated_at,
                                        merchant_id, shopper_id)
                SELECT %s || g, 120.00, 'EUR', %s, 'pay_in_4', 0,
                       CASE WHEN %s = 'shipped' THEN now() - (g %% 300) * interval '1 day' END,
                       CASE WHEN %s = 'shipped' THEN 'dhl_germany' ELSE '' END,
                       CASE WHEN %s = 'shipped' THEN 'BT' || g ELSE '' END, '', now(), now(),
                       shops.ids[1 + g %% array_length(shops.ids, 1)],
                       shoppers.ids[1 + g %% array_length(shoppers.ids, 1)]
                FROM generate_series(1, %s) AS g, shoppers, shops
                """,
                [f"shopper%@{DOMAIN}", prefix, state, state, state, state, count],
            )
        cursor.execute(
            """
            INSERT INTO bnpl_plan (option_key, nominal_rate, apr, total_payable, total_cost_of_credit, currency, state,
                                   start_date, created_at, order_id)
            SELECT option_key, 0, 0, amount, 0, currency, 'active', shipped_at::date, now(), id
            FROM bnpl_order WHERE reference LIKE 'BENCH-%%' AND state = 'shipped'
            """
        )
    for table in ("accounts_user", "bnpl_shopper", "bnpl_order", "bnpl_plan"):
        cursor.execute(f"ANALYZE {table}")


def _floor_sessions() -> list[str]:
    """A signed-in session per merchant user: the portal floor answers for a signed-in user, as the pages do."""
    expire = timezone.now() + datetime.timedelta(days=1)
    users = get_user_model().objects.filter(email__startswith="merchant", email__endswith=f"@{DOMAIN}")
    rows, lines = [], []
    csrf = get_random_string(32)
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = SessionStore().encode(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "portal.accounts.backends.PortalAuthenticationBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
        )
        rows.append(Session(session_key=key, session_data=data, expire_date=expire))
        lines.append(f"sessionid={key}; csrftoken={csrf}\t0")
    Session.objects.bulk_create(rows)
    return lines


def decisions_reset() -> int:
    """The benchmark's decided orders wait for their decision again (before each measurement of decisions)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM bnpl_creditdecision WHERE order_id IN "
            "(SELECT id FROM bnpl_order WHERE reference LIKE 'BENCH-DEC-%%' AND state <> 'pending_decision')"
        )
        cursor.execute(
            "UPDATE bnpl_order SET state = 'pending_decision' "
            "WHERE reference LIKE 'BENCH-DEC-%%' AND state <> 'pending_decision'"
        )
        return cursor.rowcount
