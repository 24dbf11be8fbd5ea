from django.db import migrations

# A JSON value as a number: JSON numbers and numeric strings, else NULL. A plain
# SQL function, so the planner inlines it into the queries that use it.
CREATE = r"""
CREATE OR REPLACE FUNCTION sl_numeric(v jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::numeric
    WHEN jsonb_typeof(v) = 'string' AND (v #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$' THEN (v #>> '{}')::numeric
  END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("tracking", "0002_events")]
    operations = [migrations.RunSQL(CREATE, "DROP FUNCTION IF EXISTS sl_numeric(jsonb);")]
