from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

# Campaign sessions by source, for session conditions that filter on utm_source (see
# tracking.models.Session). Built concurrently, so the drain keeps writing sessions meanwhile.


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tracking", "0019_vacuum_keeps_visibility_current")]

    operations = [
        AddIndexConcurrently(
            model_name="session",
            index=models.Index(
                condition=models.Q(("utm_source", ""), _negated=True),
                fields=["project", "utm_source", "-started_at"],
                include=["person", "ended_at", "pageview_count", "utm_medium", "utm_campaign"],
                name="session_project_source",
            ),
        ),
    ]
