"""Background queries: analyses run as jobs with progress, and their results cached per data version.

A page or an API call asks for a result (`services.job_request`); a result
cached at the project's current data version answers at once, otherwise a job
runs it: in a worker process (`manage.py analysis_worker`), in threads of the
web process (chDB, single process), or inline (tests). Pages poll the job with
htmx and swap the result in; leaving the page cancels it.

The kinds of job (funnel, retention, segment preview, …) are registered by the
apps that own them (`kinds.register`), so this app knows none of them.
"""
