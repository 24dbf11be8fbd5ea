import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Chunks carry their project, like every row of customer data (tenancy checks rely on it)."""

    dependencies = [("replay", "0002_schedule_retention"), ("tracking", "0004_actions")]

    operations = [
        migrations.AddField(
            model_name="recordingchunk",
            name="project",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tracking.project",
            ),
        ),
        migrations.RunSQL(
            "UPDATE replay_recordingchunk c SET project_id = r.project_id FROM replay_recording r WHERE r.id = c.recording_id",
            migrations.RunSQL.noop,
        ),
    ]
