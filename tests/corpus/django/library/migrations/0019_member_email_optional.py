# Corpus case: AlterField NOT NULL -> null: DROP NOT NULL.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0018_member_phone_required"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="email",
            field=models.CharField(max_length=254, null=True),
        ),
    ]
