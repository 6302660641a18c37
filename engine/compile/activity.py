"""The activity rows a run reads, and the ``activity`` step that brings them to base units.

Every statement that reads activity data reads the rows of the run's loads (``of_run_loads``)
from the activity type's table (``activity_table_name``); the ``evaluate`` statement starts from
``activity_cte``: each quantity multiplied to base units per row by its unit, with a note of
the conversion made. The allocation of instruments (allocation.py) reads both its consumption
and its instruments through the same step.
"""

from __future__ import annotations

from fractions import Fraction

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.units import fraction_to_decimal, is_terminating, parse_unit
from ccf.engine.compile.rescaled import Key, multiplier_col, multipliers, rescaled_col
from ccf.engine.load.tables import activity_table_name
from ccf.engine.sql import column, ident, number, param, table, text



def of_run_loads(alias: str | None = None) -> exp.Expression:
    """A row of the dataset's loads that the run reads (%(loads)s): the loads its snapshot held,
    or those a verification recomputes with; a load committed later is never read."""
    return exp.and_(
        exp.EQ(this=column("dataset", alias), expression=param("dataset")),
        exp.EQ(this=column("load_id", alias),
               expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("loads"), to=exp.DataType.build("BIGINT[]"))))),
    )


def activity_cte(m: ir.Methodology, rescaled: frozenset[Key] = frozenset()) -> exp.Select:
    """Activity rows of the run's loads, quantities brought to base units, with a conversion note;
    and each of ``rescaled`` in the unit of the factor it multiplies, where the row's unit allows
    a multiplication (``rescaled.rescaled_col``; else NULL).

    What depends only on a quantity's unit (its factor to base units, its note, its multipliers
    into factors' units) is one row per unit of a small ``VALUES`` list, joined on the row's
    unit (``unit_table``): one hash probe per row and field, where a CASE per column compared
    the unit with each unit in turn (docs/performance.md, eighth pass)."""
    q = exp.select(*[column(c, "a") for c in ("activity_id", "entity", "period_start", "period_end")])
    q = q.from_(table(activity_table_name(m.activity.id), alias="a"))
    notes: list[exp.Expression] = []
    extra: list[exp.Expression] = []
    for f in m.activity.fields:
        if f.name in ("activity_id", "entity", "period_start", "period_end"):
            continue
        value = column(f.name, "a")
        if f.type.kind == "quantity" and f.conversions:
            ratios = sorted(ratio for name, ratio in rescaled if name == f.name)  # sorted: a stable text
            units = unit_table(f, ratios)
            alias = units.alias_or_name
            q = q.join(units, on=exp.EQ(this=column("unit", alias), expression=column(f"{f.name}_unit", "a")), join_type="left")
            value = exp.Mul(this=value, expression=column("factor", alias))
            notes.append(column("note", alias))
            extra += [
                exp.alias_(exp.Mul(this=column(f.name, "a"), expression=column(multiplier_col(ratio), alias)),
                           rescaled_col(f.name, ratio))
                for ratio in ratios
            ]
        elif f.type.kind == "quantity" and f.fixed_factor is not None and f.fixed_factor != 1:
            value = exp.Mul(this=value, expression=number(f.fixed_factor))
        q = q.select(exp.alias_(value, f.name) if not isinstance(value, exp.Column) else value)
    # CONCAT_WS skips NULLs: with one note, the note or '' (no function call per row)
    note = (
        exp.Null() if not notes
        else exp.Coalesce(this=notes[0], expressions=[text("")]) if len(notes) == 1
        else exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *notes])
    )
    q = q.select(exp.alias_(note, "unit_conversion"), *extra)
    return once(q.where(of_run_loads("a")))


def unit_table(f: ir.Field, ratios: list[Fraction]) -> exp.Values:
    """``(VALUES …) AS unit_<field> (unit, factor, note, x<p>_<q>…)``: per unit the field may be
    given in, its factor to base units, its conversion note, and per ratio of ``ratios`` its
    multiplier into that factor's unit (``rescaled.multipliers``; NULL where none)."""
    display = parse_unit(f.display_unit or "1")
    by_ratio = [multipliers(f.conversions, ratio) for ratio in ratios]
    rows = [
        exp.Tuple(expressions=[
            text(c.unit),
            number(c.factor),
            text(conversion_note(f.name, c.unit, parse_unit(c.unit).scale / display.scale, f.display_unit or "")),
            *[number(k[c.unit]) if c.unit in k else exp.Null() for k in by_ratio],
        ])
        for c in f.conversions
    ]
    names = ["unit", "factor", "note", *[multiplier_col(ratio) for ratio in ratios]]
    return exp.Values(expressions=rows, alias=exp.TableAlias(this=ident(f"unit_{f.name}"), columns=[ident(n) for n in names]))


def once(q: exp.Select) -> exp.Select:
    """Compute this step's columns once per row: OFFSET 0 stops PostgreSQL from inlining the
    subquery into its consumers, which would repeat every expression at each use."""
    return q.offset(0)


def conversion_note(field: str, unit: str, ratio: Fraction, display: str) -> str:
    if ratio == 1:
        return f"{field} in {unit}"
    shown = str(fraction_to_decimal(ratio)) if is_terminating(ratio) else f"{ratio.numerator}/{ratio.denominator}"
    return f"{field} {unit}→{display} ×{shown}"
