from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="signatureevidence",
            name="client_downloaded_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="downloaded by the client"),
        ),
    ]
