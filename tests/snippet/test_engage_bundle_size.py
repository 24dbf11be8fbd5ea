from __future__ import annotations

import gzip

from tests.bundles import BASE_DIR, ENGAGE, bundles_build

BUDGET_BYTES = 8 * 1024


def test_the_nudge_and_survey_bundle_stays_within_its_size_budget_when_gzipped():
    bundles_build()
    minified = ENGAGE.read_bytes()
    gzipped = len(gzip.compress(minified, compresslevel=9))
    print(f"engage.js: {len(minified)} bytes minified, {gzipped} bytes gzipped (budget {BUDGET_BYTES})")
    assert gzipped <= BUDGET_BYTES, (
        f"engage.js is {gzipped} bytes gzipped, over the {BUDGET_BYTES}-byte budget"
    )


def test_the_snippet_loads_the_bundle_only_through_its_loader():
    # The core snippet carries the loader, never the widgets themselves.
    bundles_build()
    snippet = (BASE_DIR / "static" / "dist" / "sightline.js").read_text()
    assert "engage.js" in snippet
    assert "attachShadow" not in snippet
