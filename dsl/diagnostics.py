"""One diagnostic type for every stage, rendered once: code, message, spans, suggestion."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from ccf.dsl.source import SourceFile, Span


@dataclass(frozen=True)
class Related:
    """A secondary location that explains a diagnostic (e.g. the other operand)."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """A positioned error in the author's words.

    Codes are stable (``E1xx`` file/YAML, ``E2xx`` structure, ``E3xx`` expression syntax,
    ``E4xx`` names, ``E5xx`` types, units and numeric range, ``E6xx`` factors). Problems in activity data are
    not diagnostics: whole-file problems raise ``LoadError``, bad rows become rejected records.
    """

    code: str
    message: str
    span: Span
    related: tuple[Related, ...] = ()
    suggestion: str | None = None

    def key(self) -> tuple:
        return (self.span.path, self.span.line, self.span.column, self.code, self.message)


class CcfError(Exception):
    """Root of every error ccf reports to a user (exit code 1, never a traceback): the command line
    catches this one class. Errors of other kinds that ccf reports derive from it too (a unit that
    does not parse is also a ``ValueError``, a report that does not add up also an ``AssertionError``)."""


class DiagnosticError(CcfError):
    """One or more diagnostics; raised when a stage cannot go on."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(dedupe(diagnostics))
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in self.diagnostics))


def dedupe(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Drop repeats at the same span with the same message; keep source order."""
    seen: set[tuple] = set()
    out: list[Diagnostic] = []
    for d in diagnostics:
        if d.key() not in seen:
            seen.add(d.key())
            out.append(d)
    out.sort(key=lambda d: (d.span.path, d.span.line, d.span.column))
    return out


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """'did you mean …?' text for a misspelt name, or None."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not matches:
        return None
    # only the near-best: 'quantiy' suggests 'quantity', not also 'entity'
    score = {m: difflib.SequenceMatcher(None, name, m).ratio() for m in matches}
    matches = [m for m in matches if score[m] >= score[matches[0]] - 0.1]
    if len(matches) == 1:
        return f"did you mean '{matches[0]}'?"
    return "did you mean " + ", ".join(f"'{m}'" for m in matches[:-1]) + f" or '{matches[-1]}'?"


_VISIBLE = {c: 0x2400 + c for c in range(32) if c != 9} | {127: 0x2421}


def _caret_block(source: SourceFile | None, span: Span, label: str = "") -> list[str]:
    if source is None:
        return []
    text = source.line(span.line)
    if not text and span.line > source.line_count:
        return []
    gutter = str(span.line)
    width = (
        max(1, span.end_column - span.column)
        if span.end_line == span.line
        else max(1, len(text) - span.column + 1)
    )
    pad = " " * len(gutter)
    # tabs stay tabs under the line so the caret lines up; other control characters
    # (NUL, ...) are shown as visible symbols (U+2400 block), one column each
    text = text.translate(_VISIBLE)
    marker = "".join("\t" if ch == "\t" else " " for ch in text[: span.column - 1].ljust(span.column - 1)) + "^" * width
    return [f" {pad} |", f" {gutter} | {text}", f" {pad} | {marker}{(' ' + label) if label else ''}"]


def render(diagnostics: Iterable[Diagnostic], sources: dict[str, SourceFile]) -> str:
    """Numbered, positioned diagnostics with the source line and a caret underline."""
    diags = dedupe(diagnostics)
    out: list[str] = []
    for n, d in enumerate(diags, 1):
        out.append(f"error[{d.code}] ({n} of {len(diags)}): {d.message}")
        out.append(f"  --> {d.span}")
        out.extend(_caret_block(sources.get(d.span.path), d.span))
        for r in d.related:
            out.append(f"  note: {r.message}")
            out.append(f"  --> {r.span}")
            out.extend(_caret_block(sources.get(r.span.path), r.span))
        if d.suggestion:
            out.append(f"  help: {d.suggestion}")
        out.append("")
    noun = "error" if len(diags) == 1 else "errors"
    out.append(f"{len(diags)} {noun}.")
    return "\n".join(out)
