"""Person resolution at ingestion: distinct ids -> persons, identify merges, traits, companies.

Everything here works on a whole batch with a handful of statements; only
`$identify` merges (rare) run one at a time, in the order they were sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import orjson
from django.db import connection

from tracking import eventstore
from tracking.ingest.rollup import person_days_move
from tracking.ingest.validate import CleanEvent
from tracking.models import Person


class PersonsMerged(Exception):
    """A person of the batch was merged away by a concurrent batch; the batch must be resolved again."""


def _fetch_mapping(project_id: int, distinct_ids: Iterable[str]) -> dict[str, int]:
    # relies on the unique index distinct_id_project_unique (project_id, distinct_id)
    ids = list(distinct_ids)
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT distinct_id, person_id FROM tracking_persondistinctid"
            " WHERE project_id = %s AND distinct_id = ANY(%s)",
            [project_id, ids],
        )
        return dict(cursor.fetchall())


def _create_persons(project_id: int, first_seen: dict[str, datetime]) -> dict[str, int]:
    """Create one person per new distinct id; a concurrent batch that created it first wins."""
    if not first_seen:
        return {}
    # Sorted: concurrent batches then insert shared new ids in the same order and
    # wait for each other instead of deadlocking.
    dids = sorted(first_seen)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('tracking_person', 'id')) FROM generate_series(1, %s)",
            [len(dids)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        times = [first_seen[d] for d in dids]
        cursor.execute(
            "INSERT INTO tracking_person (id, project_id, properties, is_identified, first_seen, last_seen, created_at)"
            " SELECT id, %s, '{}'::jsonb, false, ts, ts, now() FROM unnest(%s::bigint[], %s::timestamptz[]) AS t(id, ts)",
            [project_id, ids, times],
        )
        cursor.execute(
            "INSERT INTO tracking_persondistinctid (project_id, distinct_id, person_id)"
            " SELECT %s, did, pid FROM unnest(%s::text[], %s::bigint[]) AS t(did, pid)"
            " ON CONFLICT (project_id, distinct_id) DO NOTHING RETURNING distinct_id, person_id",
            [project_id, dids, ids],
        )
        created = dict(cursor.fetchall())
        lost = [pid for did, pid in zip(dids, ids, strict=True) if did not in created]
        if lost:
            cursor.execute("DELETE FROM tracking_person WHERE id = ANY(%s)", [lost])
    if len(created) < len(dids):
        created.update(_fetch_mapping(project_id, [d for d in dids if d not in created]))
    return created


def _lock_new_distinct_ids(project_id: int, distinct_ids: Iterable[str]) -> None:
    """Serialise the batches that may create the same distinct ids, taking the locks in one global order.

    Without it, two batches that both create (or attach) several new ids can each
    hold one the other needs and deadlock. The locks are taken in hash order, so
    waits cannot form a cycle; a batch waits at most for the ones that create the
    same ids, as it would anyway for their unique index entries.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended(%s || ':' || d, 0) AS k"
            " FROM unnest(%s::text[]) AS d ORDER BY 1) AS keys",
            [str(project_id), list(distinct_ids)],
        )


def _lock_persons(ids: list[int], cursor=None) -> None:
    """Lock persons in id order (the one order every batch uses); PersonsMerged if one no longer exists."""
    if cursor is None:
        with connection.cursor() as cursor:
            _lock_persons(ids, cursor)
            return
    cursor.execute("SELECT id FROM tracking_person WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [ids])
    if cursor.rowcount != len(ids):
        raise PersonsMerged


def _merge(project_id: int, *, source: int, target: int, at: datetime) -> None:
    """Fold person `source` (anonymous) into `target`: ids, events, sessions and traits follow.

    The merged traits keep `target`'s value where both have one. Their history
    (moved with the rest) interleaves both persons' writes by time, so where
    `source` wrote a trait `target` also holds, `target`'s value is written again
    at `at` (the `$identify`): from then on, history gives the merged value.
    """
    with connection.cursor() as cursor:
        # First wait for the batches still writing events of `source` (they hold its row,
        # see update_persons): their events are then visible and move with the others.
        cursor.execute("SELECT id FROM tracking_person WHERE id = %s FOR UPDATE", [source])
        cursor.execute(
            "UPDATE tracking_persondistinctid SET person_id = %s WHERE project_id = %s AND person_id = %s",
            [target, project_id, source],
        )
        eventstore.person_events_move(project_id, source=source, target=target)
        cursor.execute(
            "UPDATE tracking_session SET person_id = %s WHERE project_id = %s AND person_id = %s",
            [target, project_id, source],
        )
        # relies on person_trait_person (person_id, at)
        cursor.execute(
            "SELECT DISTINCT t.key, (p.properties -> t.key)::text FROM tracking_persontrait t"
            " JOIN tracking_person p ON p.id = %s AND p.properties ? t.key WHERE t.person_id = %s",
            [target, source],
        )
        kept = [
            {"person": target, "key": key, "value": orjson.loads(value), "at": at, "once": False}
            for key, value in cursor.fetchall()
        ]
        cursor.execute(
            "UPDATE tracking_persontrait SET person_id = %s WHERE project_id = %s AND person_id = %s",
            [target, project_id, source],
        )
        if kept:
            _traits_record(cursor, project_id, kept)
        cursor.execute(
            "UPDATE tracking_person t SET"
            " properties = s.properties || t.properties,"
            " first_seen = least(t.first_seen, s.first_seen), last_seen = greatest(t.last_seen, s.last_seen),"
            " company_id = coalesce(t.company_id, s.company_id)"
            " FROM tracking_person s WHERE t.id = %s AND s.id = %s",
            [target, source],
        )
    person_days_move(project_id, source=source, target=target)
    # The ORM delete cascades to what other apps hang on a person (segment
    # memberships, touches, ...); events, sessions and days were moved above.
    Person.objects.filter(pk=source).delete()


def _identified(person_ids: list[int]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM tracking_person WHERE id = ANY(%s) AND is_identified", [person_ids])
        return {row[0] for row in cursor.fetchall()}


def resolve_persons(project_id: int, events: list[CleanEvent]) -> dict[str, int]:
    """Map every distinct id of the batch to a person id, applying `$identify` in order."""
    wanted: set[str] = {e.distinct_id for e in events}
    identifies = [e for e in events if e.name == "$identify"]
    for e in identifies:
        anon = e.properties.get("$anon_distinct_id")
        if isinstance(anon, str) and anon and anon != e.distinct_id and len(anon) <= 200:
            wanted.add(anon)
    mapping = _fetch_mapping(project_id, wanted)
    new_ids = wanted.difference(mapping)
    if new_ids:
        _lock_new_distinct_ids(project_id, new_ids)
        mapping.update(_fetch_mapping(project_id, new_ids))  # created by a batch we waited for
    if mapping and any(
        e.name in ("$identify", "$groupidentify") or "$groups" in e.properties for e in events
    ):
        # Merges, identification and apply_groups update persons before update_persons
        # does; lock them all now, in its id order, so that no other batch holds one
        # of them while waiting for another that this batch holds.
        _lock_persons(sorted(set(mapping.values())))
    newly_identified: set[int] = set()

    for e in identifies:
        anon = e.properties.get("$anon_distinct_id")
        user_pid = mapping.get(e.distinct_id)
        anon_pid = mapping.get(anon) if isinstance(anon, str) and anon != e.distinct_id else None
        if anon_pid is not None and (anon_pid in newly_identified or anon_pid in _identified([anon_pid])):
            # The anonymous id already belongs to someone identified (a shared device):
            # the new user gets a person of their own.
            anon_pid = None
            anon = None
        if user_pid is None and anon_pid is None:
            pid = _create_persons(project_id, {e.distinct_id: e.timestamp})[e.distinct_id]
            mapping[e.distinct_id] = pid
            if isinstance(anon, str) and anon and anon != e.distinct_id and len(anon) <= 200:
                _attach(project_id, anon, pid)
                mapping[anon] = _fetch_mapping(project_id, [anon])[anon]
            user_pid = pid
        elif user_pid is None:
            _attach(project_id, e.distinct_id, anon_pid)
            mapping[e.distinct_id] = user_pid = _fetch_mapping(project_id, [e.distinct_id])[e.distinct_id]
        elif anon_pid is not None and anon_pid != user_pid:
            _merge(project_id, source=anon_pid, target=user_pid, at=e.timestamp)
            for did, pid in list(mapping.items()):
                if pid == anon_pid:
                    mapping[did] = user_pid
        elif (
            anon_pid is None and isinstance(anon, str) and anon and anon != e.distinct_id and len(anon) <= 200
        ):
            # a known user on a new device: its anonymous id joins them
            _attach(project_id, anon, user_pid)
            mapping[anon] = _fetch_mapping(project_id, [anon])[anon]
        newly_identified.add(user_pid)

    missing = {}
    for e in events:
        if e.distinct_id not in mapping and e.distinct_id not in missing:
            missing[e.distinct_id] = e.timestamp
    mapping.update(_create_persons(project_id, missing))

    if newly_identified:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE tracking_person SET is_identified = true WHERE id = ANY(%s)", [list(newly_identified)]
            )
    return mapping


def _attach(project_id: int, distinct_id: str, person_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_persondistinctid (project_id, distinct_id, person_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (project_id, distinct_id) DO NOTHING",
            [project_id, distinct_id, person_id],
        )


def update_persons(project_id: int, events: list[CleanEvent], mapping: dict[str, int]) -> None:
    """first/last seen, `$set` (last write wins) and `$set_once` (first write wins), one statement.

    Raises PersonsMerged when one of the persons no longer exists: a concurrent
    `$identify` merged it away after this batch resolved its distinct ids. Once
    this has returned, the batch holds its persons' rows, so a merge waits for it.
    """
    seen: dict[int, list] = {}
    for e in events:
        pid = mapping[e.distinct_id]
        entry = seen.get(pid)
        if entry is None:
            entry = seen[pid] = [e.timestamp, e.timestamp, {}, {}]
        else:
            if e.timestamp < entry[0]:
                entry[0] = e.timestamp
            if e.timestamp > entry[1]:
                entry[1] = e.timestamp
        if e.set_props:
            entry[2].update(e.set_props)
        if e.set_once_props:
            for key, value in e.set_once_props.items():
                entry[3].setdefault(key, value)
    if not seen:
        return
    ids = sorted(seen)
    history = _trait_rows(events, mapping)
    with connection.cursor() as cursor:
        # Lock the rows in id order first: concurrent batches touching the same
        # persons then queue instead of deadlocking (the UPDATE's own join may
        # visit rows in any order).
        _lock_persons(ids, cursor)
        # The rows travel as one JSON document: rendering arrays of timestamps and
        # JSON texts as SQL literals costs far more Python time than orjson does.
        rows = [
            {"id": i, "first": seen[i][0], "last": seen[i][1], "set": seen[i][2], "set_once": seen[i][3]}
            for i in ids
        ]
        cursor.execute(
            "UPDATE tracking_person p SET"
            " first_seen = least(p.first_seen, v.first), last_seen = greatest(p.last_seen, v.last),"
            " properties = (v.set_once || p.properties) || v.set"
            " FROM jsonb_to_recordset(%s::jsonb)"
            " AS v(id bigint, first timestamptz, last timestamptz, set jsonb, set_once jsonb)"
            " WHERE p.id = v.id",
            [orjson.dumps(rows).decode()],
        )
        if history:
            _traits_record(cursor, project_id, history)


def _trait_rows(events: list[CleanEvent], mapping: dict[str, int]) -> list[dict]:
    """The batch's trait writes in time order, a repeat of the same value by the same person dropped."""
    rows: list[dict] = []
    last: dict[tuple[int, str, bool], bytes] = {}
    for e in sorted((e for e in events if e.set_props or e.set_once_props), key=lambda e: e.timestamp):
        pid = mapping[e.distinct_id]
        for once, props in ((False, e.set_props), (True, e.set_once_props)):
            for key, value in (props or {}).items():
                blob = orjson.dumps(value)
                if last.get((pid, key, once)) == blob or (once and (pid, key, once) in last):
                    continue
                last[(pid, key, once)] = blob
                rows.append(
                    {"person": pid, "key": str(key)[:200], "value": value, "at": e.timestamp, "once": once}
                )
    return rows


def _traits_record(cursor, project_id: int, rows: list[dict]) -> None:
    """Append trait history (tracking.PersonTrait), skipping writes that change nothing as of any moment.

    A `$set` is redundant when the person's latest earlier `$set` of the key holds
    the same value; a `$set_once` when an earlier `$set_once` of the key exists.
    Relies on person_trait_key (project_id, key, person_id, at).
    """
    cursor.execute(
        "INSERT INTO tracking_persontrait (project_id, person_id, key, value, at, once)"
        " SELECT %s, v.person, v.key, v.value, v.at, v.once"
        " FROM jsonb_to_recordset(%s::jsonb) AS v(person bigint, key text, value jsonb, at timestamptz, once boolean)"
        " WHERE NOT EXISTS (SELECT 1 FROM tracking_persontrait t"
        "   WHERE t.project_id = %s AND t.key = v.key AND t.person_id = v.person AND t.once AND v.once AND t.at <= v.at)"
        " AND (v.once OR NOT coalesce((SELECT t.value = v.value FROM tracking_persontrait t"
        "   WHERE t.project_id = %s AND t.key = v.key AND t.person_id = v.person AND NOT t.once AND t.at <= v.at"
        "   ORDER BY t.at DESC, t.id DESC LIMIT 1), false))",
        [project_id, orjson.dumps(rows).decode(), project_id, project_id],
    )


def _group_key(groups: object) -> str | None:
    """The company key of a `$groups` property (`{type: key}`): type `company` first, else the first type."""
    if not isinstance(groups, dict) or not groups:
        return None
    key = groups.get("company", next(iter(groups.values())))
    if not isinstance(key, str | int) or isinstance(key, bool) or not str(key).strip():
        return None
    return str(key).strip()[:200]


def _join_company(project_id: int, person_id: int, key: str) -> None:
    """Link a person to a company by key (created without traits when new), as `$groups` does."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tracking_company (project_id, key, properties, created_at, updated_at)"
            " VALUES (%s, %s, '{}'::jsonb, now(), now()) ON CONFLICT (project_id, key) DO NOTHING",
            [project_id, key],
        )
        cursor.execute(
            "UPDATE tracking_person SET company_id = c.id FROM tracking_company c"
            " WHERE c.project_id = %s AND c.key = %s AND tracking_person.id = %s"
            " AND tracking_person.company_id IS DISTINCT FROM c.id",
            [project_id, key, person_id],
        )


def apply_groups(project_id: int, events: list[CleanEvent], mapping: dict[str, int]) -> None:
    """`$groupidentify` upserts a company and links the sending person to it; `$groups` links only."""
    joined: set[tuple[int, str]] = set()
    for e in events:
        if e.name != "$groupidentify":
            key = _group_key(e.properties.get("$groups"))
            if key is not None and (mapping[e.distinct_id], key) not in joined:
                joined.add((mapping[e.distinct_id], key))
                _join_company(project_id, mapping[e.distinct_id], key)
            continue
        key = e.properties.get("$group_key")
        if not isinstance(key, str | int) or isinstance(key, bool) or not str(key).strip():
            continue
        key = str(key).strip()[:200]
        traits = e.properties.get("$group_set")
        traits = traits if isinstance(traits, dict) else {}
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tracking_company (project_id, key, properties, created_at, updated_at)"
                " VALUES (%s, %s, %s::jsonb, now(), now())"
                " ON CONFLICT (project_id, key) DO UPDATE"
                " SET properties = tracking_company.properties || EXCLUDED.properties, updated_at = now()"
                " RETURNING id",
                [project_id, key, orjson.dumps(traits).decode()],
            )
            company_id = cursor.fetchone()[0]
            if traits:
                # trait history (tracking.CompanyTrait), read by segments evaluated as of a moment
                cursor.execute(
                    "INSERT INTO tracking_companytrait (project_id, company_id, key, value, at)"
                    " SELECT %s, %s, t.key, t.value, %s FROM jsonb_each(%s::jsonb) t",
                    [project_id, company_id, e.timestamp, orjson.dumps(traits).decode()],
                )
            cursor.execute(
                "UPDATE tracking_person SET company_id = %s WHERE id = %s",
                [company_id, mapping[e.distinct_id]],
            )
