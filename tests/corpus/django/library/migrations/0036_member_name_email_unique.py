# Corpus case: AddConstraint UniqueConstraint on fields: ADD CONSTRAINT UNIQUE.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0035_loan_due_index_renamed"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="member",
            constraint=models.UniqueConstraint(
                fields=("name", "email"), name="member_name_email_uniq"
            ),
        ),
    ]
