"""The advisory locks ccf takes, each named once with what it keeps apart.

PostgreSQL advisory locks are keyed by one bigint per database. Each lock below serialises one
kind of writer against others of its kind; none is meant to exclude another, so their keys
differ, and a process may hold several (a setup holds SETUP while it installs reference data,
whose installs take REFERENCE_DATA).

- ``SETUP`` (0x0CCF): migrating a database and installing the shipped reference data
  (``api.open_database``, ``migrate.migrate``). Two first commands on a fresh database, started
  together, inserted the same rows without it and one failed on a duplicate key. The embedded
  server's roles script (engine/embedded_roles.sql, plain SQL) takes the same key, written
  there as 3279, in the database it runs in: one role-maker at a time.
- ``REFERENCE_DATA`` (0x0CCF1): installing a factor-set edition or a rate table (its checksum
  is compared with what is installed, then rows are written: two installers must not interleave).
- ``ENTITY_SETS`` (0x0CCF6): loading an entity set (organisational structure).
- ``job_lock_key(job_id)``: held (session level) by the worker executing a background run
  (engine/service/worker.py) for as long as it runs: a running job whose lock is free has lost
  its worker.
- ``load_lock(activity_type)``: one per activity type (``hashtextextended('ccf.load:<type>')``):
  a load's table DDL and its duplicate checks against the rows already loaded; a run's table DDL.
- ``run_lock_key(run_id)``: held (transaction level) by a delete of the run, so that two deletes
  of one run (``ccf runs delete``, ``DELETE /runs/{id}``, a dataset's delete with its runs) take
  turns and the second finds the run gone. A row lock (``FOR UPDATE``) would need an UPDATE
  privilege on ``ccf.run`` that the service's role has no other use for (docs/service.md, roles).
- ``clickhouse_run_lock_key(run_id)``: held (transaction level) by a run computed on ClickHouse
  for as long as it runs: its input and evaluation tables there are in use. Tables of a run whose
  lock is free are a crashed process's, dropped by the next run (engine/clickhouse/run.py, ``sweep``).
"""

from __future__ import annotations

from sqlglot import exp

from ccf.engine.sql import func, number, param

SETUP = 0x0CCF
REFERENCE_DATA = 0x0CCF1
ENTITY_SETS = 0x0CCF6


def xact_lock(key: int) -> exp.Select:
    """Take a lock until the end of the transaction."""
    return exp.select(func("pg_advisory_xact_lock", number(key)))


def session_lock(key: int) -> exp.Select:
    """Take a lock until ``session_unlock`` (or the connection closes)."""
    return exp.select(func("pg_advisory_lock", number(key)))


def session_unlock(key: int) -> exp.Select:
    return exp.select(func("pg_advisory_unlock", number(key)))


def xact_lock_of() -> exp.Select:
    """Take the lock keyed ``%(lock_key)s`` (a text, hashed) until the end of the transaction."""
    return exp.select(func("pg_advisory_xact_lock", func("hashtextextended", param("lock_key"), number(0))))


def load_lock() -> exp.Select:
    """The load lock of the activity type bound as ``%(lock_key)s`` (``load_lock_key``)."""
    return xact_lock_of()


def load_lock_key(activity_type: str) -> str:
    return f"ccf.load:{activity_type}"


def try_session_lock_of() -> exp.Select:
    """Take the lock keyed ``%(lock_key)s`` (a text, hashed) until ``session_unlock_of``, if it
    is free: true when taken."""
    return exp.select(func("pg_try_advisory_lock", func("hashtextextended", param("lock_key"), number(0))))


def session_unlock_of() -> exp.Select:
    return exp.select(func("pg_advisory_unlock", func("hashtextextended", param("lock_key"), number(0))))


def job_lock_key(job_id: int) -> str:
    return f"ccf.job:{job_id}"


def run_lock_key(run_id: int) -> str:
    return f"ccf.run:{run_id}"


def clickhouse_run_lock_key(run_id: int) -> str:
    return f"ccf.clickhouse-run:{run_id}"
