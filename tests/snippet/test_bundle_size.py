from __future__ import annotations

import gzip

from tests.bundles import SNIPPET, bundles_build

BUDGET_BYTES = 10 * 1024  # hard limit; the goal is 8 KB


def test_the_snippet_stays_within_its_size_budget_when_gzipped():
    bundles_build()
    minified = SNIPPET.read_bytes()
    gzipped = len(gzip.compress(minified, compresslevel=9))
    print(f"sightline.js: {len(minified)} bytes minified, {gzipped} bytes gzipped (budget {BUDGET_BYTES})")
    assert gzipped <= BUDGET_BYTES, (
        f"sightline.js is {gzipped} bytes gzipped, over the {BUDGET_BYTES}-byte budget"
    )
