"""Source files and spans: every node and diagnostic points back at the author's text."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SourceFile:
    """A methodology or activity-type file as read from disk (or given as text)."""

    path: str
    text: str

    @classmethod
    def read(cls, path: str | Path) -> "SourceFile":
        p = Path(path)
        raw = p.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:  # reported by the YAML stage as a diagnostic
            text = raw.decode("utf-8", errors="replace")
            del exc
        return cls(str(path), text)

    def line(self, number: int) -> str:
        """1-based line of text without its newline ('' past the end)."""
        lines = self.text.splitlines()
        return lines[number - 1] if 1 <= number <= len(lines) else ""


@dataclass(frozen=True)
class Span:
    """A 1-based line/column range in a source file; end is exclusive on its line."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    @staticmethod
    def unknown(path: str = "<unknown>") -> "Span":
        return Span(path, 1, 1, 1, 1)


@dataclass(frozen=True)
class Spanned:
    """Mixin for immutable nodes: the span is carried but excluded from equality."""

    span: Span = field(default_factory=Span.unknown, compare=False, repr=False, kw_only=True)
