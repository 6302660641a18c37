"""Factor-set declarations: the shape of ``factor_sets/<id>.yaml`` and its check to ``ir.FactorSet``.

A declaration tells the checker, without reading any factor file, what a methodology may ask
of a set: the attributes a ``select``/``match`` can name, the gases and the unit of their
values, the regions and years it covers; and it names the set's editions with the reporting
periods each is for, so that a run can take the edition of the dataset's period. A shipped
edition also gives its file and the sha256 of the publisher's bytes.

    factor_set: desnz
    title: UK Government GHG Conversion Factors for Company Reporting
    publisher: UK DESNZ / Defra
    licence: Open Government Licence v3.0
    attributes: [scope, level1, level2, level3, level4, column_text, uom, ghg_unit, cv_basis]
    gases: {CO2e: kgCO2e, CO2: kgCO2e, CH4: kgCO2e, N2O: kgCO2e}
    regions: [GB]
    years: [2024, 2025]
    editions:
      desnz-2024: {periods: ["2024"], file: desnz_….csv, sha256: 6a2f…}
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator

from ccf.dsl import ir
from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.model import Strict, validate_document
from ccf.dsl.source import SourceFile
from ccf.dsl.units import UnitError, parse_unit
from ccf.dsl.yaml_source import YamlDocument, load_yaml

SET_ID = r"^[a-z][a-z0-9]*([.-][a-z0-9]+)*$"  # desnz, desnz-2024, useeio-1.3, acme-travel
GASES = ("CO2e", "CO2", "CH4", "N2O", "energy")  # 'energy': a set's energy-content values (kWh)
# the columns every factor row has; a declared attribute is any other
ROW_COLUMNS = ("factor_id", "name", "unit", "gas", "value", "region", "year")
PERIOD_HELP = "a calendar year (\"2024\") or first and last day (\"2024-04-01..2025-03-31\")"


class EditionSpec(Strict):
    """One edition: the reporting periods it is for; for a shipped one, its file and sha256."""

    periods: list[str] = Field(
        default_factory=list,
        description="reporting periods the edition is for, each " + PERIOD_HELP + "; none: any period "
        "(its factors carry their own years)",
    )
    file: str | None = Field(None, description="shipped editions: the published file in factors/")
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="sha256 of the published file's bytes")
    description: str | None = None


class FactorSetFile(Strict):
    """A factor set a methodology may read: its attributes, gases and editions."""

    model_config = Strict.model_config | {"title": "ccf factor set"}

    factor_set: str = Field(pattern=SET_ID, description="id a methodology names to read the edition of its period")
    title: str
    publisher: str
    licence: str
    description: str | None = None
    attributes: list[str] = Field(description="factor attributes a lookup's select/match may name (CSV columns)")
    gases: dict[str, str] = Field(min_length=1, description="gas: unit of its values' numerator, e.g. CO2e: kgCO2e")
    regions: list[str] = Field(default_factory=list, description="regions the factors are for (ISO codes, grid regions)")
    years: list[int] = Field(default_factory=list, description="years the factors are for")
    editions: dict[str, EditionSpec] = Field(min_length=1, description="edition id: its periods (and file)")

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.match(r"^[a-z][a-z0-9_]*$", name):
                raise ValueError(f"attribute '{name}' must be lower_snake_case (it is a column of the factor file)")
            if name in ROW_COLUMNS:
                raise ValueError(f"'{name}' is a column every factor row has, not an attribute")
        return v

    @field_validator("editions")
    @classmethod
    def _edition_ids(cls, v: dict[str, EditionSpec]) -> dict[str, EditionSpec]:
        for name in v:
            if not re.match(SET_ID, name):
                raise ValueError(f"edition id '{name}' must be lower case letters, digits, '-' and '.', e.g. acme-2024")
        return v


def parse_period(text: str) -> tuple[date, date] | None:
    """``2024`` or ``2024-04-01..2025-03-31`` as (first day, last day); None if it is neither."""
    t = text.strip()
    if re.fullmatch(r"[0-9]{4}", t):
        return date(int(t), 1, 1), date(int(t), 12, 31)
    m = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\s*\.\.\s*([0-9]{4}-[0-9]{2}-[0-9]{2})", t)
    if not m:
        return None
    try:
        start, end = date.fromisoformat(m[1]), date.fromisoformat(m[2])
    except ValueError:
        return None
    return (start, end) if start <= end else None


def check_factor_set(doc: YamlDocument, spec: FactorSetFile) -> ir.FactorSet:
    """Gas units that are masses of their gas, periods that parse and do not overlap."""
    diags: list[Diagnostic] = []
    for gas, unit in spec.gases.items():
        span = doc.span(("gases", gas))
        if gas not in GASES:
            diags.append(Diagnostic("E604", f"unknown gas '{gas}'", doc.key_span(("gases", gas)),
                                    suggestion="gases: " + ", ".join(GASES)))
            continue
        try:
            dim = parse_unit(unit).dimension
        except UnitError as exc:
            diags.append(Diagnostic("E501", str(exc), span))
            continue
        own = parse_unit("kWh" if gas == "energy" else f"kg{gas}").dimension
        if dim != own and dim != parse_unit("kgCO2e").dimension:
            diags.append(Diagnostic("E604", f"'{unit}' is not a unit of {gas}", span,
                                    suggestion=f"e.g. {'kWh' if gas == 'energy' else 'kg' + gas}"))
    editions = []
    for eid, e in spec.editions.items():
        periods = []
        for i, text in enumerate(e.periods):
            p = parse_period(text)
            if p is None:
                diags.append(Diagnostic("E605", f"'{text}' is not a reporting period", doc.span(("editions", eid, "periods", i)),
                                        suggestion="write " + PERIOD_HELP))
                continue
            periods.append(p)
        if (e.file is None) != (e.sha256 is None):
            diags.append(Diagnostic("E605", f"edition '{eid}' gives a file without its sha256, or a sha256 without its file",
                                    doc.key_span(("editions", eid)), suggestion="give both 'file' and 'sha256', or neither"))
        editions.append(ir.Edition(eid, tuple(periods), e.file, e.sha256, span=doc.key_span(("editions", eid))))
    for i, a in enumerate(editions):
        for b in editions[i + 1:]:
            if any(s1 <= e2 and s2 <= e1 for s1, e1 in a.periods for s2, e2 in b.periods):
                diags.append(Diagnostic(
                    "E605", f"editions '{a.id}' and '{b.id}' are both for a part of the same period", b.span,
                    suggestion="each reporting period has one edition: make the periods not overlap",
                ))
    if diags:
        raise DiagnosticError(diags)
    return ir.FactorSet(
        spec.factor_set, spec.title, spec.publisher, spec.licence, tuple(spec.attributes), tuple(spec.gases.items()),
        tuple(spec.regions), tuple(spec.years), tuple(editions),
        hashlib.sha256(doc.source.text.encode("utf-8")).hexdigest(), doc.source.path, span=doc.span(()),
    )


def read_factor_set(source: SourceFile) -> ir.FactorSet:
    doc = load_yaml(source)
    return check_factor_set(doc, validate_document(doc, FactorSetFile))


def read_declarations(folder: Path, sources: dict[str, SourceFile] | None = None
                      ) -> tuple[dict[str, ir.FactorSet], list[Diagnostic]]:
    """Every declaration in ``folder`` (``<id>.yaml``), by each id a methodology may name it by
    (the set's and its editions'), and the problems found."""
    sets: dict[str, ir.FactorSet] = {}
    diags: list[Diagnostic] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        src = SourceFile.read(path)
        if sources is not None:
            sources[src.path] = src
        try:
            fs = read_factor_set(src)
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
            continue
        if fs.id != path.stem:
            diags.append(Diagnostic("E206", f"factor set '{fs.id}' must be in a file named {fs.id}.yaml", fs.span))
            continue
        taken = [n for n in fs.names() if n in sets]
        if taken:
            diags.append(Diagnostic("E603", f"'{taken[0]}' is already the id of factor set '{sets[taken[0]].id}'", fs.span,
                                    suggestion="give every factor set and edition its own id"))
            continue
        sets.update({n: fs for n in fs.names()})
    return sets, diags
