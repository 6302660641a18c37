"""ccf as a service: organisations and their tokens, scoped connections, run jobs and workers,
and the HTTP API (app.py)."""
