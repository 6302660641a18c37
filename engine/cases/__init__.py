"""`ccf test`: the test cases experts write beside a methodology, run on the database (runner.py)
and reported (commands.py). The format is the language layer's (dsl/cases.py)."""

from ccf.engine.cases.runner import CaseOutcome, Mismatch, run_cases

__all__ = ["CaseOutcome", "Mismatch", "run_cases"]
