import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # Its own migration (and transaction): PostgreSQL refuses to alter a table with
    # deferred foreign-key checks still pending from the update that filled it.
    dependencies = [("replay", "0003_chunk_project")]

    operations = [
        migrations.AlterField(
            model_name="recordingchunk",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tracking.project"
            ),
        ),
    ]
