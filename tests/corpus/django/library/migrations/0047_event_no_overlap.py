# Corpus case: AddConstraint ExclusionConstraint: builds a GiST index under ACCESS EXCLUSIVE.
import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0046_loan_unique_together"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="event",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                expressions=[
                    ("period", django.contrib.postgres.fields.ranges.RangeOperators.OVERLAPS)
                ],
                name="event_no_overlap",
            ),
        ),
    ]
