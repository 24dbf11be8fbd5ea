from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

# session_project_started gains the facts that session, device and geo conditions filter
# on, so they read the index alone. Built concurrently under a temporary name, so the
# drain keeps writing sessions meanwhile, then swapped in under the old name.
COVERING = models.Index(
    fields=["project", "-started_at"],
    include=(
        "person",
        "ended_at",
        "pageview_count",
        "browser",
        "os",
        "device_type",
        "country",
        "utm_source",
        "utm_medium",
    ),
    name="session_started_covering",
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tracking", "0015_sl_numeric_once")]

    operations = [
        AddIndexConcurrently(model_name="session", index=COVERING),
        RemoveIndexConcurrently(model_name="session", name="session_project_started"),
        migrations.RenameIndex(
            model_name="session", new_name="session_project_started", old_name="session_started_covering"
        ),
    ]
