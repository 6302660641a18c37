"""ccf as a service. Its core: organisations and their tokens (orgs), connections scoped to one
organisation by row-level security (scoped, policies), background runs as jobs (jobs) and the
workers that execute them (worker); nothing of it needs the HTTP stack. The HTTP API on top
(app, shared_routes, org_routes, problems; ``ccf serve``: serve) needs the extra ``service``."""
