from tests.segments.conftest import on_commit, tasks_run_inline  # noqa: F401 - shared fixtures
