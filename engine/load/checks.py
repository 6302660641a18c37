"""The row checks: the specification of why a row is rejected. ``REASONS`` lists the rejection
reasons in the order docs/data.md describes them; ``checks`` gives, in order, every check a row
of an activity type meets, and a row reports the first that fails. Each check is an SQL condition
over the staged text that never raises, so one bad row never aborts a load."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from ccf.dsl import ir
from ccf.dsl.model import DATA_QUALITY, DATA_QUALITY_SCORES
from ccf.dsl.units import format_dimension
from ccf.engine.load.base import (
    FIRST_LINE, KNOWN_ENTITY, LINE, PRIOR_LINE, PRIOR_LOAD, blank, cast_to, cell, concat, filled, icol, is_not_null,
    is_null, negate, nullif_blank, one_of, substring, trim,
)
from ccf.engine.load.datasets import Dataset
from ccf.engine.load.tables import has_unit_column, is_quantity
from ccf.engine.sql import func, number, param, text


# Every reason a row can be rejected for, in the order of the table in docs/data.md ("Rejected
# rows"), which says what each means (tests/engine/test_load.py holds the two to each other).
# field_count and bad_text are decided while the file is staged (source.py, ``stage_record``); the others
# by the checks below, the first that fails in the order ``all_checks`` gives.
REASONS = (
    "field_count", "missing_value", "not_a_number", "number_out_of_range", "negative_quantity", "bad_data_quality",
    "unknown_unit", "bad_date", "bad_boolean", "period_order", "outside_period", "unknown_entity", "duplicate_activity_id",
    "bad_text",
)


# Far beyond real data: a number within both has fewer than 2000 digits before and after the
# point (numeric.MAX_INPUT_DIGITS), which dsl/exactness.py relies on.
MAX_NUMBER_CHARS = 1000
MAX_EXPONENT_DIGITS = 3

_NUMBER_RE = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_IN_RANGE_RE = _NUMBER_RE.replace("[0-9]+)?$", f"[0-9]{{1,{MAX_EXPONENT_DIGITS}}})?$")  # exponent of at most 3 digits
_DATE_RE = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_PAST_MONTH_END = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31")
TRUE_TEXTS = ("true", "yes", "1")
FALSE_TEXTS = ("false", "no", "0")


def _leap_year(year_text: exp.Expression) -> exp.Expression:
    # MOD(), not the % operator: a bare % would be read as a bound-parameter marker.
    y = cast_to(year_text, "INT")
    mod = lambda n: func("MOD", y, number(n))  # noqa: E731
    century_ok = exp.or_(exp.NEQ(this=mod(100), expression=number(0)), exp.EQ(this=mod(400), expression=number(0)))
    return exp.and_(exp.EQ(this=mod(4), expression=number(0)), exp.Paren(this=century_ok))


def valid_date(t: exp.Expression) -> exp.Expression:
    """A real YYYY-MM-DD date, decided without raising.

    The regex admits months 01-12 and days 01-31; what is left is year 0000 and days past
    the end of their month. The CASE keeps the one integer cast (the leap-year test of
    Feb 29) away from text the regex has not matched.
    """
    year, month_day = substring(t, 1, 4), substring(t, 6, 5)
    real = (
        exp.Case()
        .when(exp.EQ(this=year, expression=text("0000")), exp.false())
        .when(one_of(month_day, _PAST_MONTH_END), exp.false())
        .when(exp.EQ(this=month_day, expression=text("02-29")), _leap_year(year))
        .else_(exp.true())
    )
    return exp.Case().when(exp.RegexpLike(this=t, expression=text(_DATE_RE)), real).else_(exp.false())


# What a value that fails its check looks like it was written in, and the ``ccf load`` option that
# reads it (dialect.py): the reason says which option to give, and never guesses DD/MM from MM/DD.
_NUMBER_HINTS = (
    ("^[+-]?[0-9]{1,3}([.][0-9]{3})+,[0-9]*$", "; for a decimal comma and a thousands point give --decimal , --thousands ."),
    ("^[+-]?[0-9]{1,3}(,[0-9]{3})+([.][0-9]*)?$", "; for a thousands comma give --thousands ,"),
    ("^[+-]?[0-9]*,[0-9]+$", "; for a decimal comma give --decimal ,"),
)
_DATE_HINTS = (
    ("^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$", "; give --date-format DD/MM/YYYY or MM/DD/YYYY, whichever the file uses"),
    ("^[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}$", "; give --date-format DD.MM.YYYY"),
    ("^[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}$", "; give --date-format DD-MM-YYYY"),
)


def _hint(t: exp.Expression, hints: tuple[tuple[str, str], ...]) -> exp.Expression:
    """The first hint whose pattern the text matches, else ''."""
    case = exp.Case()
    for pattern, hint in hints:
        case = case.when(exp.RegexpLike(this=t.copy(), expression=text(pattern)), text(hint))
    return case.else_(text(""))


def _valid_number(t: exp.Expression) -> exp.Expression:
    return exp.RegexpLike(this=t, expression=text(_NUMBER_RE))


def in_range(t: exp.Expression) -> exp.Expression:
    """A valid number within ccf's range: at most 1000 characters, an exponent of at most 3 digits."""
    return exp.and_(
        exp.RegexpLike(this=t, expression=text(_IN_RANGE_RE)),
        exp.LTE(this=exp.Length(this=t.copy()), expression=number(MAX_NUMBER_CHARS)),
    )


@dataclass(frozen=True)
class Check:
    """One way a row can fail; only reached when every earlier check passed."""

    when: exp.Expression
    category: str  # one of REASONS
    reason: exp.Expression

    def __post_init__(self) -> None:
        assert self.category in REASONS, self.category


def _unit_label(f: ir.Field) -> str:
    dim = format_dimension(f.type.dimension) or "dimensionless"
    return ("an " if dim[0] in "aeiou" else "a ") + dim


def _unit_checks(f: ir.Field) -> list[Check]:
    name = f.name + "_unit"
    u, t = cell(name), trim(cell(name))
    units = [c.unit for c in f.conversions]
    hint = exp.Coalesce(
        this=func("jsonb_extract_path_text", cast_to(param("unit_hints"), "JSONB"), text(f.name), t),
        expressions=[text("use one of " + ", ".join(units))],
    )
    return [
        Check(exp.and_(filled(cell(f.name)), blank(u)), "missing_value", text(f"{name} is required but empty")),
        Check(
            exp.and_(filled(u), negate(one_of(t, units))),
            "unknown_unit",
            concat(f"{name} '", u, f"' is not {_unit_label(f)} unit (", hint, ")"),
        ),
    ]


def _value_checks(f: ir.Field) -> list[Check]:
    """Checks of a non-empty value's form, by field kind."""
    v = cell(f.name)
    t = trim(v)
    kind = f.type.kind
    if kind == "quantity":
        checks = [
            Check(exp.and_(filled(v), negate(_valid_number(t))), "not_a_number",
                   concat(f"{f.name} '", v, "' is not a number", _hint(t, _NUMBER_HINTS))),
            Check(exp.and_(filled(v), negate(in_range(t.copy()))), "number_out_of_range",
                   concat(f"{f.name} '", v.copy(),
                           f"' is out of range (at most {MAX_NUMBER_CHARS} characters and an exponent of at most "
                           f"{MAX_EXPONENT_DIGITS} digits, which keeps the arithmetic on it exact)")),
        ]
        if f.name == DATA_QUALITY:  # a score of PCAF's scale: 2.0 is 2, 2.5 and 6 are no score
            score = cast_to(nullif_blank(v.copy()), "NUMERIC")
            checks.append(Check(
                negate(exp.In(this=score, expressions=[number(s) for s in DATA_QUALITY_SCORES])), "bad_data_quality",
                concat(f"{f.name} '", v.copy(), "' is not a data-quality score: a whole number from 1 (best data, "
                       "e.g. verified emissions reported by the source) to 5 (poorest, e.g. spend-based estimates)")))
        if is_quantity(f):
            negative = exp.LT(this=cast_to(nullif_blank(v), "NUMERIC"), expression=number(0))
            checks.append(Check(negative, "negative_quantity",
                                 concat(f"{f.name} '", v, "' is negative; a quantity cannot be less than zero")))
        return checks + (_unit_checks(f) if has_unit_column(f) else [])
    if kind == "date":
        return [Check(exp.and_(filled(v), negate(valid_date(t))), "bad_date",
                       concat(f"{f.name} '", v, "' is not a valid date (expected YYYY-MM-DD", _hint(t, _DATE_HINTS), ")"))]
    if kind == "boolean":
        return [Check(exp.and_(filled(v), negate(one_of(exp.Lower(this=t), TRUE_TEXTS + FALSE_TEXTS))), "bad_boolean",
                       concat(f"{f.name} '", v, "' is not true or false (use true/false, yes/no or 1/0)"))]
    return []


def field_checks(f: ir.Field) -> list[Check]:
    required = [Check(blank(cell(f.name)), "missing_value", text(f"{f.name} is required but empty"))]
    return (required if f.required else []) + _value_checks(f)


def _period_check(dataset: exp.Expression) -> Check:
    """The row's period lies inside the dataset's reporting period (both days included)."""
    ps, pe = trim(cell("period_start")), trim(cell("period_end"))
    first, last = cast_to(param("period_start"), "DATE"), cast_to(param("period_end"), "DATE")
    row = concat("period ", ps, "..", pe)
    reporting = concat(" the reporting period ", cast_to(param("period_start"), "TEXT"), "..",
                        cast_to(param("period_end"), "TEXT"), " of dataset '", dataset, "'")
    starts_before = exp.LT(this=cast_to(ps, "DATE"), expression=first)
    ends_after = exp.GT(this=cast_to(pe, "DATE"), expression=last)
    reason = (
        exp.Case()
        .when(exp.or_(exp.LT(this=cast_to(pe, "DATE"), expression=first), exp.GT(this=cast_to(ps, "DATE"), expression=last)),
              concat(row, " is outside", reporting))
        .when(starts_before.copy(), concat(row, " starts before", reporting,
                                             "; split the row at ", cast_to(param("period_start"), "TEXT")))
        .else_(concat(row, " ends after", reporting, "; split the row after ", cast_to(param("period_end"), "TEXT")))
    )
    return Check(exp.or_(starts_before, ends_after), "outside_period", reason)


def _entity_check(dataset: exp.Expression) -> Check:
    """The row's entity is one of the dataset's entity set (joined in ``_annotated``)."""
    entity = cell("entity")
    hint = exp.Coalesce(
        this=func("jsonb_extract_path_text", cast_to(param("entity_hints"), "JSONB"), entity),
        expressions=[concat("see 'ccf entities show ", cast_to(param("entity_set"), "TEXT"), "'")],
    )
    return Check(
        is_null(icol(KNOWN_ENTITY)), "unknown_entity",
        concat("entity '", entity, "' is not an entity of entity set '", cast_to(param("entity_set"), "TEXT"),
                "' bound to dataset '", dataset, "' (", hint, ")"),
    )


def row_checks(ds: Dataset) -> list[Check]:
    """Checks across fields and rows, once each field is known to be well formed."""
    ps, pe = trim(cell("period_start")), trim(cell("period_end"))
    aid = cell("activity_id")
    prior_load, prior_line = cast_to(icol(PRIOR_LOAD), "TEXT"), cast_to(icol(PRIOR_LINE), "TEXT")
    dataset = cast_to(param("dataset"), "TEXT")
    bound = ([_period_check(dataset)] if ds.period is not None else []) + (
        [_entity_check(dataset)] if ds.entity_set is not None else [])
    return [
        Check(exp.LT(this=cast_to(pe, "DATE"), expression=cast_to(ps, "DATE")), "period_order",
               concat("period_end ", pe, " is before period_start ", ps)),
        *bound,
        Check(is_not_null(icol(PRIOR_LOAD)), "duplicate_activity_id",
               concat("activity_id '", aid, "' is already in dataset '", dataset,
                       "' (load ", prior_load, ", line ", prior_line, ")")),
        Check(exp.GT(this=icol(LINE), expression=icol(FIRST_LINE)), "duplicate_activity_id",
               concat("activity_id '", aid, "' appears more than once (also line ",
                       cast_to(icol(FIRST_LINE), "TEXT"), ")")),
    ]


def all_checks(at: ir.ActivityType, names: list[str], ds: Dataset) -> list[Check]:
    """Every check, in the order a row's first failure is reported."""
    fields = [f for f in at.fields if f.name in names]
    return [c for f in fields for c in field_checks(f)] + row_checks(ds)
