from django.db import migrations

# Segment and analysis queries read these tables through index-only scans, which go to
# the heap for every row on a page that VACUUM has not yet marked all-visible. By default
# autovacuum waits for 20% of a table's rows to be new (or dead) before it visits it: at
# 10M events that is the last 2M events, most of a "last 30 days" window. Events are
# visited after every 100,000 new ones instead, whatever the table's size; the rollups
# and sessions after 1% of new or dead rows (they are also updated row by row as batches
# arrive: today's counts, a session's end). A visit reads only the pages not yet marked,
# and an insert-only visit skips the indexes, so the visits stay small; they also
# summarise the BRIN index on timestamps.
TABLES = {
    "tracking_event": [
        "autovacuum_vacuum_insert_threshold = 100000",
        "autovacuum_vacuum_insert_scale_factor = 0",
    ],
    "tracking_session": [
        "autovacuum_vacuum_insert_scale_factor = 0.01",
        "autovacuum_vacuum_scale_factor = 0.01",
    ],
    "tracking_personday": [
        "autovacuum_vacuum_insert_scale_factor = 0.01",
        "autovacuum_vacuum_scale_factor = 0.01",
    ],
    "tracking_personeventday": [
        "autovacuum_vacuum_insert_scale_factor = 0.01",
        "autovacuum_vacuum_scale_factor = 0.01",
    ],
}


def _set(table: str, options: list[str]) -> str:
    return f"ALTER TABLE {table} SET ({', '.join(options)})"


def _reset(table: str, options: list[str]) -> str:
    return f"ALTER TABLE {table} RESET ({', '.join(option.split(' = ')[0] for option in options)})"


class Migration(migrations.Migration):
    dependencies = [("tracking", "0018_event_name_index_pathname")]
    operations = [
        migrations.RunSQL(_set(table, options), _reset(table, options)) for table, options in TABLES.items()
    ]
