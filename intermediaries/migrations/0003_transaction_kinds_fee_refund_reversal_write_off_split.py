# The core feed's new booking kinds: fee refunds, reversals (by reference), write-offs, splits
# (by ratio) and transfers between two portfolios of one client (counterpart portfolio, reference,
# and the cost basis the valuation carries from the sending to the receiving leg).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intermediaries", "0002_valuation_no_default_ordering"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transaction",
            name="type",
            field=models.CharField(
                choices=[
                    ("buy", "Buy"),
                    ("sell", "Sell"),
                    ("deposit", "Deposit"),
                    ("withdrawal", "Withdrawal"),
                    ("dividend", "Dividend"),
                    ("interest", "Interest"),
                    ("fee", "Fee"),
                    ("tax", "Tax"),
                    ("transfer_in", "Transfer in"),
                    ("transfer_out", "Transfer out"),
                    ("fee_refund", "Fee refund"),
                    ("reversal", "Reversal"),
                    ("write_off", "Write-off"),
                    ("split", "Split"),
                ],
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="ratio",
            field=models.DecimalField(
                blank=True,
                decimal_places=10,
                help_text="Units after a split per unit before.",
                max_digits=20,
                null=True,
                verbose_name="ratio",
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="reference",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="referenced_by",
                to="intermediaries.transaction",
                verbose_name="refers to",
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="counterpart_portfolio",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.RESTRICT,
                related_name="+",
                to="intermediaries.portfolio",
                verbose_name="other portfolio",
            ),
        ),
        migrations.AddField(
            model_name="transaction",
            name="transfer_cost",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=20, null=True, verbose_name="cost basis transferred"
            ),
        ),
        migrations.AddConstraint(
            model_name="transaction",
            constraint=models.UniqueConstraint(fields=("reference", "type"), name="txn_reference_type_uniq"),
        ),
    ]
