"""The benchmark's synthetic activity data: deterministic CSV files of N rows in all.

Each generated row is a copy of a row of the Northwind sample data (methodologies/sample_data/
northwind/), so keys (countries, fuels, journeys, NAICS codes), units and periods keep the
distribution of a real company's data, with a fresh activity id and a fresh amount. On top:

- spend lines draw their NAICS code, more than half of the time, from every code the installed
  USEEIO set has (a skewed distribution over ≈ 1,000 keys: matching at realistic cardinality);
- ≈ 1% of rows have an amount of zero (excluded by a rule), ≈ 2% a key no factor has (unmatched),
  ≈ 1% an amount that is not a number (rejected by the loader); the sample data's own bad rows
  (e.g. an unknown unit) are copied as they are, so they are rejected too.

The same ``rows`` and ``seed`` give byte-identical files.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Sequence


@dataclass(frozen=True)
class Scenario:
    """One methodology of the benchmark and how its activity rows are made."""

    ref: str  # methodology id@version
    activity_type: str
    share: int  # relative number of rows
    amounts: tuple[str, ...]  # amount columns: replaced by a fresh number where the sample row has one
    unmatched: tuple[str, str]  # (column, value no factor or rule matches)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("scope2.electricity.location_based@1.1.0", "electricity", 4, ("quantity",), ("country", "XX")),
    Scenario("scope1.stationary_combustion@1.1.0", "stationary_fuel", 2, ("energy", "volume", "mass"),
             ("fuel", "Unlisted bench fuel")),
    Scenario("scope3.cat6.business_travel@2.0.0", "business_travel", 2, ("distance",), ("service", "Unlisted bench service")),
    Scenario("scope3.cat1.purchased_goods.spend_based@1.0.0", "purchased_spend", 2, ("spend",), ("naics", "999999")),
)

ZERO_PERCENT, UNMATCHED_PERCENT, REJECTED_PERCENT = 1, 2, 1
NAICS_FROM_FACTOR_SET = 0.6


def split_rows(rows: int, scenarios: Sequence[Scenario] = SCENARIOS) -> list[int]:
    """Rows per scenario, proportional to their shares, summing to ``rows``."""
    total = sum(s.share for s in scenarios)
    counts = [rows * s.share // total for s in scenarios]
    counts[0] += rows - sum(counts)
    return counts


def _amount(rng: random.Random) -> str:
    """A positive decimal with 0-3 decimal places, as text (never through a float)."""
    digits = str(rng.randint(1, 9_999_999))
    places = rng.randint(0, 3)
    if not places:
        return digits
    digits = digits.rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def write_csv(
    path: Path, scenario: Scenario, rows: int, rng: random.Random, templates: Sequence[dict[str, str]],
    header: Sequence[str], naics_codes: Sequence[str] = (),
) -> int:
    """Write ``rows`` activity rows made from ``templates``; returns the number written."""
    naics_weights = list(accumulate(1 / (rank + 1) for rank in range(len(naics_codes))))
    prefix = scenario.activity_type[:3].upper()
    key, unmatched_value = scenario.unmatched
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=list(header))
        out.writeheader()
        for i in range(rows):
            row = dict(rng.choice(templates))
            row["activity_id"] = f"BENCH-{prefix}-{i:09d}"
            for column in scenario.amounts:
                if row.get(column):
                    row[column] = _amount(rng)
            if naics_codes and rng.random() < NAICS_FROM_FACTOR_SET:
                row["naics"] = rng.choices(naics_codes, cum_weights=naics_weights)[0]
            roll = rng.randrange(100)
            filled = [c for c in scenario.amounts if row.get(c)]
            if roll < ZERO_PERCENT and filled:
                row[filled[0]] = "0"
            elif roll < ZERO_PERCENT + UNMATCHED_PERCENT:
                row[key] = unmatched_value
            elif roll < ZERO_PERCENT + UNMATCHED_PERCENT + REJECTED_PERCENT and filled:
                row[filled[0]] = "n/a"
            out.writerow(row)
    return rows


def sample_rows(sample_dir: Path, activity_type: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of the sample company's CSV file of an activity type."""
    with (sample_dir / f"{activity_type}.csv").open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def generate(
    folder: Path, rows: int, seed: int, sample_dir: Path, naics_codes: Sequence[str],
    scenarios: Sequence[Scenario] = SCENARIOS,
) -> list[tuple[Scenario, Path, int]]:
    """One CSV per scenario in ``folder``: (scenario, file, rows written)."""
    out = []
    for i, (scenario, n) in enumerate(zip(scenarios, split_rows(rows, scenarios))):
        rng = random.Random(f"{seed}:{i}:{scenario.ref}")
        header, templates = sample_rows(sample_dir, scenario.activity_type)
        codes = sorted(naics_codes) if "naics" in header else ()
        path = folder / f"{scenario.activity_type}.csv"
        out.append((scenario, path, write_csv(path, scenario, n, rng, templates, header, codes)))
    return out
