"""Which traffic counts: bots flagged at ingest, and a project's internal and test users.

`bots` classifies a batch's user agent; `internal` holds a project's rules for
internal and test users; `filtering` turns both into the one person filter
every count (overview, analyses, measurements, segment sizes) applies.
"""
