from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

# event_project_name_ts gains the page path, so counts that filter on it read the index
# alone. Built concurrently under a temporary name (the drain keeps writing events), then
# swapped in under the old name.
WITH_PATHNAME = models.Index(
    fields=["project", "name", "timestamp"], include=("person", "pathname"), name="event_name_ts_pathname"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tracking", "0017_event_pathname")]

    operations = [
        AddIndexConcurrently(model_name="event", index=WITH_PATHNAME),
        RemoveIndexConcurrently(model_name="event", name="event_project_name_ts"),
        migrations.RenameIndex(
            model_name="event", new_name="event_project_name_ts", old_name="event_name_ts_pathname"
        ),
    ]
