"""Source files and spans: every node and diagnostic points back at the author's text."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

# The line breaks of YAML 1.1, as PyYAML counts them in the positions it reports: CR LF, CR,
# LF, NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. Every position in ccf (YAML marks, expression
# spans, the caret renderer) counts lines this one way.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


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

    @cached_property
    def line_starts(self) -> tuple[int, ...]:
        """Character offset at which each line starts (lines end at a LINE_BREAK)."""
        return (0, *(m.end() for m in LINE_BREAK.finditer(self.text)))

    @cached_property
    def _lines(self) -> tuple[str, ...]:
        return tuple(LINE_BREAK.split(self.text))

    @property
    def line_count(self) -> int:
        """Lines of text; a final line break does not start another line."""
        return len(self._lines) - (1 if self._lines[-1] == "" else 0)

    def line(self, number: int) -> str:
        """1-based line of text without its line break ('' past the end)."""
        return self._lines[number - 1] if 1 <= number <= self.line_count else ""

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1


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
