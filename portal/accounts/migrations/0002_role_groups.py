from django.db import migrations

ROLES = [
    "intermediary",
    "firm_manager",
    "client",
    "backoffice",
    "partner_agent",
    "merchant",
    "exchange_member",
    "compliance",
    "credit_analyst",
    "admission",
]


def create_role_groups(apps, schema_editor):
    # On the migration's own connection: `migrate --database owner` runs as the owner role.
    groups = apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias)
    for name in ROLES:
        groups.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
