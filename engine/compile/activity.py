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
from ccf.engine.compile.rescaled import Key, multipliers, rescaled_col
from ccf.engine.load.tables import activity_table_name
from ccf.engine.sql import column, number, param, table, text



def of_run_loads(alias: str | None = None) -> exp.Expression:
    """A row of the dataset's loads that the run reads (%(loads)s): the loads its snapshot held,
    or those a verification recomputes with; a load committed later is never read."""
    return exp.and_(
        exp.EQ(this=column("dataset", alias), expression=param("dataset")),
        exp.EQ(this=column("load_id", alias),
               expression=exp.Any(this=exp.Paren(this=exp.Cast(this=param("loads"), to=exp.DataType.build("BIGINT[]"))))),
    )


def activity_cte(m: ir.Methodology, rescaled: dict[Key, ir.FieldRef] | None = None) -> exp.Select:
    """Activity rows of the run's loads, quantities brought to base units, with a conversion note;
    and each of ``rescaled`` in the unit of the factor it multiplies, where the row's unit allows
    a multiplication (``rescaled.rescaled_col``; else NULL)."""
    cols: list[exp.Expression] = [column(c, "a") for c in ("activity_id", "entity", "period_start", "period_end")]
    notes: list[exp.Expression] = []
    for f in m.activity.fields:
        if f.name in ("activity_id", "entity", "period_start", "period_end"):
            continue
        value = column(f.name, "a")
        if f.type.kind == "quantity" and f.conversions:
            unit_col = column(f"{f.name}_unit", "a")
            case = exp.Case(
                this=unit_col,
                ifs=[exp.If(this=text(c.unit), true=number(c.factor)) for c in f.conversions],
            )
            value = exp.Mul(this=value, expression=case)
            display = parse_unit(f.display_unit or "1")
            notes.append(
                exp.Case(
                    this=unit_col,
                    ifs=[
                        exp.If(this=text(c.unit), true=text(conversion_note(f.name, c.unit, parse_unit(c.unit).scale / display.scale, f.display_unit or "")))
                        for c in f.conversions
                    ],
                )
            )
        elif f.type.kind == "quantity" and f.fixed_factor is not None and f.fixed_factor != 1:
            value = exp.Mul(this=value, expression=number(f.fixed_factor))
        cols.append(exp.alias_(value, f.name) if not isinstance(value, exp.Column) else value)
    note = exp.Anonymous(this="CONCAT_WS", expressions=[text("; "), *notes]) if notes else exp.Null()
    cols.append(exp.alias_(note, "unit_conversion"))
    for (name, ratio), field in (rescaled or {}).items():
        by_unit = exp.Case(
            this=column(f"{name}_unit", "a"),
            ifs=[exp.If(this=text(unit), true=number(k)) for unit, k in multipliers(field, ratio)],
        )
        cols.append(exp.alias_(exp.Mul(this=column(name, "a"), expression=by_unit), rescaled_col(name, ratio)))
    return once(
        exp.select(*cols)
        .from_(table(activity_table_name(m.activity.id), alias="a"))
        .where(of_run_loads("a"))
    )


def once(q: exp.Select) -> exp.Select:
    """Compute this step's columns once per row: OFFSET 0 stops PostgreSQL from inlining the
    subquery into its consumers, which would repeat every expression at each use."""
    return q.offset(0)


def conversion_note(field: str, unit: str, ratio: Fraction, display: str) -> str:
    if ratio == 1:
        return f"{field} in {unit}"
    shown = str(fraction_to_decimal(ratio)) if is_terminating(ratio) else f"{ratio.numerator}/{ratio.denominator}"
    return f"{field} {unit}→{display} ×{shown}"
