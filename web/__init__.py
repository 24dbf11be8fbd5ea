"""The shared web kit, below every app: page and fragment rendering, htmx and form helpers,
charts, bounded SQL reads, storable-text checks and the REST API's parsers, pagination and
errors. It knows nothing of tenancy or of any app's models."""
