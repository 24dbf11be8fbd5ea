"""The ClickHouse schema for events, created and upgraded by `manage.py clickhouse_migrate`.

`events` is a MergeTree ordered for per-person reads inside a project
(`project_id, person_id, timestamp`), partitioned by month. Event names are
`LowCardinality`; the properties most filters read are lifted into columns
beside the full JSON text. Rows are never updated: a retried event is skipped
before it is written (`writes.events_insert`), and identity merges are recorded
in `person_overrides`, which every read joins (`reads.events_from`).

On a cluster (`?cluster=NAME` in CLICKHOUSE_URL) the data tables are
`Replicated*MergeTree` on every node (`*_local`) behind `Distributed` tables
sharded by person, and every statement runs `ON CLUSTER`.
"""

from __future__ import annotations

from tracking.eventstore.clickhouse.client import Client

# Properties lifted into columns: (column, property key, type)
LIFTED = (
    ("p_pathname", "$pathname", "String"),
    ("p_host", "$host", "LowCardinality(String)"),
    ("p_referrer", "$referrer", "String"),
    ("p_event_type", "$event_type", "LowCardinality(String)"),
    ("p_lib", "$lib", "LowCardinality(String)"),
)

EVENT_COLUMNS = """
    project_id UInt64,
    uuid UUID,
    person_id Int64,
    distinct_id String,
    session_key String,
    name LowCardinality(String),
    timestamp DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    url String,
    path String,
    el_text String,
    href String,
    elements_chain String,
    properties String,
{lifted},
    INDEX uuid_bloom uuid TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX name_set name TYPE set(0) GRANULARITY 4
"""

PROGRESS = (
    " (project_id UInt64, last_id Int64, copied UInt64, version UInt64)"
    " ENGINE = ReplacingMergeTree(version) ORDER BY project_id"
)

OVERRIDE_COLUMNS = """
    project_id UInt64,
    old_person_id Int64,
    new_person_id Int64,
    version UInt64
"""


def _lifted() -> str:
    return ",\n".join(
        f"    {column} {type_} MATERIALIZED JSONExtractString(properties, '{key}')"
        for column, key, type_ in LIFTED
    )


def statements(client: Client) -> list[str]:
    """Idempotent DDL, in order, for a single server or a cluster."""
    db = client.database
    cluster = client.on_cluster()
    events_columns = EVENT_COLUMNS.format(lifted=_lifted())
    if not client.cluster:
        return [
            f"CREATE DATABASE IF NOT EXISTS {db}",
            f"CREATE TABLE IF NOT EXISTS {db}.events ({events_columns})"
            " ENGINE = MergeTree PARTITION BY toYYYYMM(timestamp)"
            " ORDER BY (project_id, person_id, timestamp)",
            f"CREATE TABLE IF NOT EXISTS {db}.person_overrides ({OVERRIDE_COLUMNS})"
            " ENGINE = ReplacingMergeTree(version) ORDER BY (project_id, old_person_id)",
            f"CREATE TABLE IF NOT EXISTS {db}.copy_progress{PROGRESS}",
        ]
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}{cluster}",
        f"CREATE TABLE IF NOT EXISTS {db}.events_local{cluster} ({events_columns})"
        " ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/" + db + ".events', '{replica}')"
        " PARTITION BY toYYYYMM(timestamp) ORDER BY (project_id, person_id, timestamp)",
        f"CREATE TABLE IF NOT EXISTS {db}.events{cluster} AS {db}.events_local"
        f" ENGINE = Distributed({client.cluster}, {db}, events_local, cityHash64(project_id, person_id))",
        # overrides are small and every shard's reads join them: a full copy on every node
        f"CREATE TABLE IF NOT EXISTS {db}.person_overrides{cluster} ({OVERRIDE_COLUMNS})"
        " ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/" + db + ".person_overrides',"
        " '{replica}', version) ORDER BY (project_id, old_person_id)",
        f"CREATE TABLE IF NOT EXISTS {db}.copy_progress{cluster}"
        " (project_id UInt64, last_id Int64, copied UInt64, version UInt64)"
        " ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/" + db + ".copy_progress',"
        " '{replica}', version) ORDER BY project_id",
    ]


def migrate(client: Client) -> list[str]:
    """Create what is missing; returns the statements run (all idempotent)."""
    done = []
    for sql in statements(client):
        client.command(sql)
        done.append(sql.split("(")[0].strip())
    return done


def truncate(client: Client) -> None:
    """Empty every table (tests)."""
    for table in ("events", "person_overrides", "copy_progress"):
        client.command(f"TRUNCATE TABLE IF EXISTS {client.database}.{table}{client.on_cluster()}")
