from __future__ import annotations

import pytest

from demo import site as demo_site


@pytest.fixture(autouse=True)
def fresh_demo_key():
    """The demo key is cached per process; each test has its own database, so its own demo project."""
    demo_site.public_key.cache_clear()
    yield
    demo_site.public_key.cache_clear()
