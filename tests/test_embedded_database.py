"""The embedded PostgreSQL's handle list: pgserver rewrites it without a lock, so processes that
start together (`make run`'s web, drain and task processes) can catch it half written."""

from __future__ import annotations

import json
import os

import pytest
from pgserver.utils import DiskList

from config.database import _get_server


class _Pgserver:
    """pgserver's get_server as far as the list goes: it adds this process to the real DiskList."""

    def __init__(self, rewrites: int) -> None:
        self.calls = 0
        self.rewrites = rewrites  # how many attempts find the list mid-rewrite

    def get_server(self, pg_dir, cleanup_mode=None):
        self.calls += 1
        handles = pg_dir / ".handle_pids.json"
        if self.calls <= self.rewrites:
            handles.write_text("[]]")  # what two writers at once leave
        DiskList(handles).get_and_add(os.getpid())
        return f"server in {pg_dir.name}"


def test_a_handle_list_caught_mid_rewrite_is_reset_and_the_server_attached(tmp_path):
    pgserver = _Pgserver(rewrites=2)
    assert _get_server(pgserver, tmp_path) == f"server in {tmp_path.name}"
    assert pgserver.calls == 3
    assert json.loads((tmp_path / ".handle_pids.json").read_text()) == [os.getpid()]


def test_a_list_that_never_parses_still_fails_loudly(tmp_path):
    pgserver = _Pgserver(rewrites=99)
    with pytest.raises(ValueError, match="Extra data"):
        _get_server(pgserver, tmp_path, attempts=3)
    assert pgserver.calls == 3
