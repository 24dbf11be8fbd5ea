"""The layering holds: config < web < tracking < jobs < segments < analysis < interventions, replay < demo.

The contract lives in pyproject.toml ([tool.importlinter]); these tests run it on the
code, and on a copy of the code with one import that runs against the layering.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "web", "tracking", "jobs", "segments", "analysis", "interventions", "replay", "demo")
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache", "--contract", "layers"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
    )


def _copy_of_the_code(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc", "js", "__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_no_import_runs_against_the_layering():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_lower_app_importing_a_higher_one_breaks_the_contract(tmp_path):
    code = _copy_of_the_code(tmp_path)
    (code / "tracking" / "probe.py").write_text("from segments.selectors import segment_list  # noqa\n")
    result = _lint(code)
    assert result.returncode != 0
    assert "tracking.probe -> segments.selectors" in result.stdout


def test_the_kit_importing_an_app_breaks_the_contract(tmp_path):
    code = _copy_of_the_code(tmp_path)
    (code / "web" / "probe.py").write_text(
        "def project():\n    from tracking.models import Project  # noqa\n"
    )
    result = _lint(code)
    assert result.returncode != 0
    assert "web.probe -> tracking.models" in result.stdout
