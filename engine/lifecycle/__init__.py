"""The lifecycle of what ccf stores: list, show and delete datasets (datasets.py) and runs
(runs.py), the rows a load rejected and a run left unmatched, each with its line and reason
(rows.py), and the embedded PostgreSQL server (server.py). Each module returns data; the
command line prints it (commands.py), the Python API (engine/api.py) returns it."""
