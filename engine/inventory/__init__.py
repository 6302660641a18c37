"""GHG inventory reports: the organisational boundary and consolidation over finished runs.

The path a report takes (docs/reporting.md)::

    entity CSV --entities.py--> ccf.entity_set, ccf.entity      (validated, immutable)
    runs + entity set + approach
        --consolidation.py--> sqlglot trees: recursive ownership CTE, consolidated facts,
                              GROUPING SETS of every breakdown            (SQL, exact NUMERIC)
        --inventory.py-----> Inventory: exact kg per section, row and Scope 2 basis;
                              coverage; base-year comparison              (Decimal, no rounding)
                              --pcaf.py--> category 15 results with their activity rows' amounts
        --presentation.py--> the report document: every displayed figure, rounded once;
                              intensities.py (per the organisation's denominators), pcaf.py's metrics
        --formats.py-------> terminal table, CSV, JSON          --html.py--> HTML with SVG charts
"""
