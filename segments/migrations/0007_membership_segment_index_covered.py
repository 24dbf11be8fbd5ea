import django.db.models.deletion
from django.db import migrations, models

# The membership's own segment_id index is covered by membership_segment_entered and
# membership_segment_exited, which lead with segment_id. Only the index is dropped:
# Django's AlterField would also drop and re-add the foreign key, validating every row.


class Migration(migrations.Migration):
    dependencies = [
        ("segments", "0006_company_segments"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="segmentmembership",
                    name="segment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="segments.segment",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "segments_segmentmembership_segment_id_ee6ebe02"',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "segments_segmentmembership_segment_id_ee6ebe02"'
                    ' ON "segments_segmentmembership" ("segment_id")',
                ),
            ],
        ),
    ]
