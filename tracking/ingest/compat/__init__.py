"""Endpoints that speak other analytics clients' protocols (PostHog, Segment) and translate them.

Each translator decodes its client's request, turns every event into Sightline's
wire shape (docs/wire-protocol.md) and hands the batch to
`tracking.ingest.accept.batch_accept`, the same function `/i/v1/batch` uses. An
event that cannot be translated is rejected and dead-lettered alone.
"""
