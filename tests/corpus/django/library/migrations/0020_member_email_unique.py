# Corpus case: AlterField unique=True: ADD CONSTRAINT UNIQUE.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0019_member_email_optional"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="email",
            field=models.CharField(max_length=254, null=True, unique=True),
        ),
    ]
