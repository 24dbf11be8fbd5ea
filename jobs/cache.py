"""Results kept per (project, normalised query, data version).

The key is a hash of the job kind and the canonical JSON of what determines the
answer (the parameters, resolved: a rolling "last 30 days" names its days, so
the key moves at midnight in the project's time zone). The project's data
version (`tracking.dataversion`) says whether a cached result is still current.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from django.db import connection
from rest_framework.utils.encoders import JSONEncoder

from jobs.models import CachedResult

log = logging.getLogger(__name__)

FORMAT = 1  # bump when results pickled by older code can no longer be read


def cache_key(kind: str, material: Any) -> str:
    text = orjson.dumps([FORMAT, kind, material], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(text).hexdigest()


_UNREAD = object()


@dataclass
class Cached:
    row: CachedResult
    fresh: bool  # computed at the project's current data version
    _value: Any = field(default=_UNREAD, repr=False)

    @property
    def computed_at(self) -> datetime:
        return self.row.computed_at

    def value(self) -> Any | None:
        """The result object as pages render it (read once); None when it cannot be read back (older code)."""
        if self._value is _UNREAD:
            try:
                self._value = pickle.loads(bytes(self.row.payload))  # noqa: S301 - see the import
            except Exception:
                log.warning("cached result %s could not be read back; computing it again", self.row.pk)
                self._value = None
        return self._value


def cached_get(*, project_id: int, key: str, version: int) -> Cached | None:
    row = CachedResult.objects.filter(project_id=project_id, key=key).first()
    if row is None:
        return None
    return Cached(row, fresh=row.data_version >= version)


def cached_put(
    *, project_id: int, kind: str, key: str, version: int, result: Any, as_json: dict, duration_ms: int
) -> int:
    """Keep a result, replacing an older one of the same key (never a newer one); returns its id."""
    payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO jobs_cachedresult
                (project_id, kind, key, data_version, computed_at, duration_ms, result, payload)
            VALUES (%s, %s, %s, %s, clock_timestamp(), %s, %s::jsonb, %s)
            ON CONFLICT (project_id, key) DO UPDATE
            SET kind = EXCLUDED.kind, data_version = EXCLUDED.data_version,
                computed_at = EXCLUDED.computed_at, duration_ms = EXCLUDED.duration_ms,
                result = EXCLUDED.result, payload = EXCLUDED.payload
            WHERE jobs_cachedresult.data_version <= EXCLUDED.data_version
            RETURNING id
            """,
            [project_id, kind, key, version, duration_ms, json.dumps(as_json, cls=JSONEncoder), payload],
        )
        row = cursor.fetchone()
        if row is None:  # a newer result is already kept
            cursor.execute(
                "SELECT id FROM jobs_cachedresult WHERE project_id = %s AND key = %s", [project_id, key]
            )
            row = cursor.fetchone()
    return row[0]


def cached_prune(*, older_than: datetime) -> int:
    deleted, _ = CachedResult.objects.filter(computed_at__lt=older_than).delete()
    return deleted
