import django.db.models.fields.json
from django.db import migrations, models

# Ingestion now cuts `$pathname` to 1,000 bytes (tracking.ingest.validate.MAX_PATHNAME_BYTES)
# so that event_project_name_ts can include it (an index entry holds at most 2,704 bytes).
# Events stored before with a longer one are cut the same way first (at a character
# boundary; a text of wide characters may lose a little more than it must).
CUT_LONG_PATHNAMES = r"""
UPDATE tracking_event SET properties = jsonb_set(properties, '{$pathname}', to_jsonb(
    CASE WHEN octet_length(left(properties ->> '$pathname', 1000)) <= 1000 THEN left(properties ->> '$pathname', 1000)
         ELSE left(properties ->> '$pathname', 250) END))
WHERE octet_length(properties ->> '$pathname') > 1000;
"""


class Migration(migrations.Migration):
    dependencies = [("tracking", "0016_session_started_covering")]

    operations = [
        migrations.RunSQL(CUT_LONG_PATHNAMES, migrations.RunSQL.noop),
        # a stored generated column: adding it rewrites the table (about a minute per 10M
        # events), and PostgreSQL keeps it equal to the properties on every write after
        migrations.AddField(
            model_name="event",
            name="pathname",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.fields.json.KeyTextTransform("$pathname", "properties"),
                output_field=models.TextField(),
            ),
        ),
    ]
