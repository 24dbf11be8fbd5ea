"""Pagination of the management API's lists."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """`?limit=&offset=`, with the page size capped: an unbounded `limit` overflows PostgreSQL's bigint."""

    max_limit = 1000
