"""Benchmark scripts (run as files, e.g. `.venv/bin/python bench/ingest.py`); not part of the test run."""
