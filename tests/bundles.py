"""The browser bundles under test: rebuilt with esbuild when a source is newer than any bundle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
DIST = BASE_DIR / "static" / "dist"
SNIPPET = DIST / "sightline.js"
DEMO_SCRIPT = DIST / "demo.js"
RECORDER = DIST / "recorder.js"
PLAYER = DIST / "player.js"
ENGAGE = DIST / "engage.js"
OUTPUTS = (SNIPPET, DEMO_SCRIPT, RECORDER, PLAYER, DIST / "player.css", ENGAGE, DIST / "app.js")
SOURCE_DIRS = ("tracking/js", "replay/js", "interventions/js", "static/js")


def _newest_source() -> float:
    sources = [path for folder in SOURCE_DIRS for path in (BASE_DIR / folder).rglob("*.js")]
    sources += [BASE_DIR / "esbuild.config.mjs", BASE_DIR / "package-lock.json"]
    return max(path.stat().st_mtime for path in sources)


def bundles_build() -> None:
    """Run `npm run build` when a bundle is missing or older than its sources; fail loudly otherwise."""
    if all(path.exists() for path in OUTPUTS) and min(p.stat().st_mtime for p in OUTPUTS) >= _newest_source():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "The browser bundles are missing or stale and npm is not installed: run `make setup`."
        )
    result = subprocess.run(
        [npm, "run", "--silent", "build"], cwd=BASE_DIR, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"`npm run build` failed:\n{result.stdout}\n{result.stderr}")


CLIENTS = BASE_DIR / "tests" / "e2e" / "clients"
POSTHOG_PAGE = CLIENTS / "dist" / "posthog_page.js"
SEGMENT_PAGE = CLIENTS / "dist" / "segment_page.js"


def client_bundles_build() -> None:
    """Bundle posthog-js and analytics-next for the browser tests when missing or stale."""
    outputs = (POSTHOG_PAGE, SEGMENT_PAGE)
    sources = [*CLIENTS.glob("*.js"), CLIENTS / "build.mjs", BASE_DIR / "package-lock.json"]
    newest = max(path.stat().st_mtime for path in sources)
    if all(path.exists() for path in outputs) and min(p.stat().st_mtime for p in outputs) >= newest:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("The client bundles are missing and npm is not installed: run `make setup`.")
    result = subprocess.run(
        [npm, "run", "--silent", "build:test-clients"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`npm run build:test-clients` failed:\n{result.stdout}\n{result.stderr}")
