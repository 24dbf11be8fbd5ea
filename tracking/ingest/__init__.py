"""The ingestion pipeline behind `/i/v1/` (see docs/wire-protocol.md)."""
