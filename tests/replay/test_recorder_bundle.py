from __future__ import annotations

import gzip

from tests.bundles import PLAYER, RECORDER, bundles_build

BUDGET_BYTES = 26 * 1024


def test_the_recorder_stays_within_its_size_budget_when_gzipped():
    bundles_build()
    minified = RECORDER.read_bytes()
    gzipped = len(gzip.compress(minified, compresslevel=9))
    print(f"recorder.js: {len(minified)} bytes minified, {gzipped} bytes gzipped (budget {BUDGET_BYTES})")
    assert gzipped <= BUDGET_BYTES, (
        f"recorder.js is {gzipped} bytes gzipped, over the {BUDGET_BYTES}-byte budget"
    )


def test_the_recorder_is_a_bundle_of_its_own():
    bundles_build()
    from tests.bundles import SNIPPET

    snippet = SNIPPET.read_text()
    assert "sightlineRecorder" in snippet  # the loader
    assert "takeFullSnapshot" not in snippet and "takeFullSnapshot" in RECORDER.read_text()
    assert "replayer-wrapper" not in RECORDER.read_text()  # no player code in the recorder
    assert PLAYER.exists() and PLAYER.with_suffix(".css").exists()
