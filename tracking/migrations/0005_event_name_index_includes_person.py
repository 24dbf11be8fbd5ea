from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """event_project_name_ts gains INCLUDE (person_id): per-person counts become index-only scans.

    Built concurrently under a temporary name, then swapped in, so ingestion never
    waits on it and queries never lack it.
    """

    atomic = False
    dependencies = [("tracking", "0004_actions")]

    operations = [
        AddIndexConcurrently(
            model_name="event",
            index=models.Index(
                fields=["project", "name", "timestamp"], include=["person"], name="event_project_name_ts_p"
            ),
        ),
        RemoveIndexConcurrently(model_name="event", name="event_project_name_ts"),
        migrations.RenameIndex(
            model_name="event", new_name="event_project_name_ts", old_name="event_project_name_ts_p"
        ),
    ]
