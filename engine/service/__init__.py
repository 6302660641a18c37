"""The HTTP service's core: organisations and their tokens (orgs), connections scoped to one
organisation by row-level security (scoped, policies), background runs as jobs (jobs) and the
workers that execute them (worker). Nothing here needs the HTTP stack."""
