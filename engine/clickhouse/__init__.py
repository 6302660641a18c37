"""The ClickHouse backend: a checked methodology run on ClickHouse, with PostgreSQL's numbers.

A first vertical slice of issue 22 (docs/scale-out.md says what is built and what is design):

``numeric``   exact decimals on ClickHouse: types, ``ccf.div``, and the sizes that prove a run exact;
``compile``   the checked IR -> ClickHouse statements (sqlglot trees, ClickHouse dialect);
``session``   where ClickHouse is (a server, or chdb in-process) and the process's one client to it;
``tables``    the ClickHouse tables (MergeTree, ordered by dataset; the results a partition per run);
``inputs``    a run's inputs copied into them from its PostgreSQL snapshot, and their sizes;
``catalogue`` which ClickHouse database holds a PostgreSQL database's runs' rows;
``reads``     what the readers of a run computed there read;
``run``       one methodology run there over a dataset's loads, reconciled like a PostgreSQL run.
"""
