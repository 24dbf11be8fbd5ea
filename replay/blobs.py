"""Chunk blobs in Django's storage (files under MEDIA_ROOT, or S3): where they go, writing and reading them."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import datetime

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COMPRESS_LEVEL = 6


def folder_name(session_key: str) -> str:
    """The session's folder: its id when that is a safe path segment, else a digest of it."""
    if _SAFE_KEY.match(session_key):
        return session_key
    return "h-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def chunk_path(*, project_id: int, created_at: datetime, session_key: str, seq: int) -> str:
    return f"recordings/{project_id}/{created_at:%Y}/{created_at:%m}/{folder_name(session_key)}/{seq}.json.gz"


def compress(data: bytes) -> bytes:
    # mtime=0: the same events always give the same bytes
    return gzip.compress(data, compresslevel=COMPRESS_LEVEL, mtime=0)


class StorageUnavailable(Exception):
    """The storage could not be written or read (disk full, object storage unreachable…)."""


def blob_write(path: str, blob: bytes) -> str:
    """Store `blob`; returns the name actually used (the storage may pick another when `path` is taken)."""
    try:
        return default_storage.save(path, ContentFile(blob))
    except Exception as error:  # any backend's failure (OSError, botocore's errors): the client retries
        raise StorageUnavailable(type(error).__name__) from error


def blob_read(path: str) -> bytes:
    """The stored (gzip-compressed) bytes; FileNotFoundError when the file is gone."""
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise
    except Exception as error:
        if not default_storage.exists(path):
            raise FileNotFoundError(path) from error
        raise StorageUnavailable(type(error).__name__) from error


def blob_delete(path: str) -> None:
    default_storage.delete(path)


def blob_exists(path: str) -> bool:
    return default_storage.exists(path)
