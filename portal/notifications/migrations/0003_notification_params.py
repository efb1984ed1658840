"""Notifications keep their event's parameters, so their texts render in the reader's language.

Rows written before have no parameters (NULL): they keep showing the title and text as they were
written, so nothing already sent becomes unreadable.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_outbox_secrets_and_reconcile"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="params",
            field=models.JSONField(blank=True, null=True, verbose_name="parameters"),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="params",
            field=models.JSONField(blank=True, null=True, verbose_name="parameters"),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="link_url",
            field=models.CharField(blank=True, max_length=500, verbose_name="link"),
        ),
    ]
