# Corpus case: AlterField db_constraint=True: a validated FOREIGN KEY, both tables locked.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0048_loan_book_loose"),
    ]

    operations = [
        migrations.AlterField(
            model_name="loan",
            name="book",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="library.book"),
        ),
    ]
