# Flows between two portfolios of one client, kept apart so a client's and a book's series leave
# them out. Existing rows had no such transfers: 0 is right for them.

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intermediaries", "0003_transaction_kinds_fee_refund_reversal_write_off_split"),
    ]

    operations = [
        migrations.AddField(
            model_name="valuation",
            name="internal_inflow_eur",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=20),
        ),
        migrations.AddField(
            model_name="valuation",
            name="internal_outflow_eur",
            field=models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=20),
        ),
    ]
