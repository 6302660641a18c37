"""How a file writes its values (``ccf load --delimiter --decimal --thousands --date-format
--encoding``), and the translation of one cell into ccf's own text: numbers as plain decimals with a
point, dates as YYYY-MM-DD. The translation only rearranges characters (never a float), and a cell
it cannot read unambiguously is a rejection with its reason, never a guess: with ``--decimal ,`` the
text ``1.234`` is refused unless ``--thousands .`` says what its point is."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import cached_property

from ccf.engine.load.base import LoadError


DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\\t": "\t", "\t": "\t", "|": "|"}
DECIMALS = (".", ",")
THOUSANDS = {".": ".", ",": ",", "'": "'", "space": " ", " ": " ", "_": "_"}
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1")

# The date patterns ccf reads: each names the order of its parts. A day and a month are one or two
# digits, the year four. DD/MM and MM/DD are never told apart from the data (01/02/2024 is both):
# the file's pattern is always given.
DATE_FORMATS = {
    "YYYY-MM-DD": (re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"), ("y", "m", "d")),
    "DD/MM/YYYY": (re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"), ("d", "m", "y")),
    "MM/DD/YYYY": (re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})"), ("m", "d", "y")),
    "DD.MM.YYYY": (re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})"), ("d", "m", "y")),
    "DD-MM-YYYY": (re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})"), ("d", "m", "y")),
}

_SEPARATOR_NAMES = {" ": "a space", "\t": "a tab"}
# A space as thousands separator is often a no-break or narrow no-break space (French exports)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


class CellError(Exception):
    """A cell the dialect cannot read: the row is rejected with this category (one of REASONS) and reason."""

    def __init__(self, category: str, reason: str):
        self.category, self.reason = category, reason
        super().__init__(reason)


def _shown(sep: str) -> str:
    return _SEPARATOR_NAMES.get(sep, f"'{sep}'")


@dataclass(frozen=True)
class Dialect:
    """The options of one load; the defaults are ccf's own CSV (docs/data.md). ``delimiter`` None:
    found from the header line (``detect_delimiter``)."""

    delimiter: str | None = None
    decimal: str = "."
    thousands: str | None = None
    date_format: str | None = None
    encoding: str = "utf-8"

    @classmethod
    def of(cls, delimiter: str | None = None, decimal: str | None = None, thousands: str | None = None,
           date_format: str | None = None, encoding: str | None = None) -> "Dialect":
        """The dialect of the command-line options, or a LoadError naming the values allowed."""
        def pick(option: str, value: str | None, allowed: dict | tuple, default):
            if value is None:
                return default
            key = value if value in allowed else value.lower() if value.lower() in allowed else None
            if key is None:
                names = ", ".join(repr(k) for k in allowed if k not in ("\t", " "))
                raise LoadError(f"{option} {value!r} is not one ccf reads: use one of {names}")
            return allowed[key] if isinstance(allowed, dict) else key

        d = cls(
            delimiter=pick("--delimiter", delimiter, DELIMITERS, None),
            decimal=pick("--decimal", decimal, DECIMALS, "."),
            thousands=pick("--thousands", thousands, THOUSANDS, None),
            date_format=pick("--date-format", date_format.upper() if date_format else None, tuple(DATE_FORMATS), None),
            encoding=pick("--encoding", encoding, ENCODINGS, "utf-8"),
        )
        if d.thousands == d.decimal:
            raise LoadError(f"--thousands {d.thousands!r} is also the decimal separator: they must differ")
        if d.delimiter is not None and d.delimiter in (d.decimal, d.thousands):
            raise LoadError(f"--delimiter {_shown(d.delimiter)} is also a separator in numbers: quote such cells "
                            "in the file and give another delimiter")
        return d

    @property
    def plain_numbers(self) -> bool:
        """Numbers are ccf's own text already (nothing to translate)."""
        return self.decimal == "." and self.thousands is None

    @property
    def plain_dates(self) -> bool:
        return self.date_format in (None, "YYYY-MM-DD")

    @property
    def plain(self) -> bool:
        """Every value reads as it is: the file can be staged as it is (given a comma delimiter and UTF-8)."""
        return self.plain_numbers and self.plain_dates

    def describe(self) -> str:
        """The options in the words of the command line, for notices."""
        parts = [f"delimiter {_shown(self.delimiter or ',')}", f"decimal '{self.decimal}'"]
        if self.thousands:
            parts.append(f"thousands {_shown(self.thousands)}")
        parts += [f"dates {self.date_format or 'YYYY-MM-DD'}", f"encoding {self.encoding}"]
        return ", ".join(parts)

    def number(self, field: str, cell: str) -> str:
        """A number cell as ccf's text (digits, one '.', optional exponent); CellError if it is
        not a number of this dialect. Blank and already-plain cells come back unchanged."""
        t = cell.strip()
        if not t or self.plain_numbers:
            return cell
        if self.thousands == " ":
            t = t.translate(_SPACES)
        m = self._number_re.fullmatch(t)
        if m:
            if self.thousands:
                t = t.replace(self.thousands, "")
            return t.replace(self.decimal, ".") if self.decimal != "." else t
        raise CellError("not_a_number", self._number_reason(field, cell, t))

    @cached_property
    def _number_re(self) -> re.Pattern:
        d = re.escape(self.decimal)
        exponent = "(?:[eE][+-]?[0-9]+)?"
        plain = f"(?:[0-9]+(?:{d}[0-9]*)?|{d}[0-9]+)"
        if self.thousands:
            grouped = f"[0-9]{{1,3}}(?:{re.escape(self.thousands)}[0-9]{{3}})+(?:{d}[0-9]*)?"
            return re.compile(f"[+-]?(?:{grouped}|{plain}){exponent}")
        return re.compile(f"[+-]?{plain}{exponent}")

    def _number_reason(self, field: str, cell: str, t: str) -> str:
        said = f"{field} '{cell}' is not a number"
        options = f"--decimal {self.decimal}" + (f" --thousands {_shown(self.thousands)}" if self.thousands else "")
        foreign = [c for c in ".,'" if c in t and c not in (self.decimal, self.thousands)]
        if foreign:
            c = foreign[0]
            return (f"{said} of this file ({options}): '{c}' is neither its decimal separator nor a thousands "
                    f"separator (give --thousands {c} if it separates thousands)")
        if self.thousands and self.thousands in t:
            return (f"{said} of this file ({options}): the thousands separator {_shown(self.thousands)} must "
                    "separate groups of three digits before the decimal separator")
        return said

    def date(self, field: str, cell: str) -> str:
        """A date cell as YYYY-MM-DD; CellError if it does not have the given pattern or is no real day."""
        t = cell.strip()
        if not t or self.plain_dates:
            return cell
        pattern, order = DATE_FORMATS[self.date_format]
        m = pattern.fullmatch(t)
        if m:
            parts = dict(zip(order, m.groups()))
            try:
                return datetime.date(int(parts["y"]), int(parts["m"]), int(parts["d"])).isoformat()
            except ValueError:
                pass
        raise CellError("bad_date", f"{field} '{cell}' is not a valid date of the form {self.date_format} (--date-format)")


def detect_delimiter(header: str) -> str | None:
    """The delimiter of a header line: the one of ',', ';', tab and '|' it has most of (the first
    of them in that order on a tie), or None when it has none of them (a header of one column)."""
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts.values())
    if best == 0:
        return None
    return next(d for d in counts if counts[d] == best)
