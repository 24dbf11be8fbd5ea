"""HTML pages of segments: the list, the builder, a segment's page, uploads, models, personas.

Every page lives under /p/<project_id>/segments/ and goes through
`tracking.decorators.project_view`, so a project the user is not a member of
answers 404; objects are always looked up within that project.
"""
