# Corpus case: AddField then RunPython in the same atomic migration: a data migration under the ADD COLUMN lock.
from django.db import migrations, models


def flag_overdue_loans(apps, schema_editor):
    Loan = apps.get_model("library", "Loan")
    Loan.objects.filter(returned=False).update(flagged=True)


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0055_book_price_cents"),
    ]

    operations = [
        migrations.AddField(
            model_name="loan",
            name="flagged",
            field=models.BooleanField(null=True),
        ),
        migrations.RunPython(flag_overdue_loans),
    ]
