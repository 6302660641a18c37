"""Strict YAML: plain data plus the span of every key and value; duplicate keys are errors.

PyYAML silently keeps the last of two equal keys; here the second one is a diagnostic with
its line. The result is the data (dicts, lists, strings, ints, ...) and a table from each
path (tuple of keys/indices) to the span of the value at that path, so later stages (pydantic
validation, expression parsing) can point at the author's text.

Values are read with the YAML 1.2 core schema, not PyYAML's YAML 1.1 one, which changes
numbers silently (``010`` is 8, ``1:30`` is 90, ``yes`` is true). A plain value that YAML 1.1
reads as a number or true/false and YAML 1.2 reads otherwise, a whole number in another form
than plain decimal (``010``, ``0x10``, ``0o10``) and infinity or not-a-number are refused with
their position, never guessed: a file means the same to every YAML tool its author may use
(docs/authoring.md). Decimals stay text, so that they become Decimals exactly as written.
Files nest at most ``MAX_DEPTH`` levels (checked before anything recurses).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.source import SourceFile, Span

Path = tuple[str | int, ...]

MAX_DEPTH = 64  # levels of mappings and lists; the shipped files use at most 6

_TAG = "tag:yaml.org,2002:"
_DECIMAL_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class _CoreResolver(yaml.resolver.BaseResolver):
    """The YAML 1.2 core schema's plain-scalar types (YAML 1.2.2, section 10.3.2), and the merge
    key '<<', which the builder refuses by its tag."""


_NULL, _TRUE, _FALSE = ("~", "null", "Null", "NULL", ""), ("true", "True", "TRUE"), ("false", "False", "FALSE")

for _tag, _pattern, _first in [
    ("null", "|".join(map(re.escape, _NULL)), ["~", "n", "N", ""]),
    ("bool", "|".join(_TRUE + _FALSE), list("tTfF")),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    ("float", r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
     list("-+.0123456789")),
    ("merge", r"<<", ["<"]),
]:
    _CoreResolver.add_implicit_resolver(_TAG + _tag, re.compile(f"^(?:{_pattern})$"), _first)


class _Parser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's pure-Python parser: text to events. (libyaml's C parser is faster but accepts
    text PyYAML refuses, such as '?' inside a plain value in { }, and words its errors
    otherwise: the diagnostics are written against this one.)"""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


class _Composer(yaml.composer.Composer, _CoreResolver):
    """Nodes from events already parsed, typed by the YAML 1.2 core schema: the file is scanned
    once, for the depth check and for the nodes (scanning is most of the time a file takes).
    Marks each plain scalar whose type was read from its text (no explicit tag), whose reading
    YAML 1.1 may not share."""

    def __init__(self, events: list[yaml.Event]):
        yaml.composer.Composer.__init__(self)
        _CoreResolver.__init__(self)
        self._events = events
        self._next = 0

    def check_event(self, *choices: type) -> bool:
        event = self.peek_event()
        return event is not None and (not choices or isinstance(event, choices))

    def peek_event(self) -> yaml.Event | None:
        return self._events[self._next] if self._next < len(self._events) else None

    def get_event(self) -> yaml.Event | None:
        event = self.peek_event()
        self._next += 1
        return event

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        implicit = self.peek_event().implicit[0]
        node = super().compose_scalar_node(anchor)
        node.ccf_plain = implicit  # type: ignore[attr-defined]
        return node

    def nodes(self) -> list[Node]:
        out = []
        while self.check_node():
            out.append(self.get_node())
        return out


_YAML_1_2 = _CoreResolver()
_YAML_1_1 = yaml.resolver.Resolver()  # PyYAML's own YAML 1.1 types, only to find the values it reads otherwise


def _yaml_1_1(text: str, tag: str) -> tuple[str, Any]:
    """What YAML 1.1 (PyYAML's constructor) reads a plain value of this YAML 1.1 type as."""
    try:
        return tag, yaml.SafeLoader("").construct_object(ScalarNode(_TAG + tag, text))
    except (ValueError, yaml.YAMLError):  # e.g. a date 2024-02-30: no value, but still not a text
        return tag, text


def _as_read(tag: str, value: Any) -> str:
    if tag == "bool":
        return str(value).lower()
    if tag in ("int", "float"):
        return f"the number {value}"
    return "a date" if tag == "timestamp" else f"the text '{value}'"


def _ambiguous(text: str) -> tuple[str, str] | None:
    """(message, suggestion) for a plain value that is not read by the YAML 1.2 core schema alone:
    infinity or not-a-number, a whole number in another form than plain decimal, or a value YAML
    1.1 reads as a number, true/false or a date and YAML 1.2 reads otherwise."""
    tag = _YAML_1_2.resolve(ScalarNode, text, (True, False)).removeprefix(_TAG)
    quotes = f"put it in quotes ('{text}') if it is a text"
    if tag == "float" and text.lstrip("+-").lower() in (".inf", ".nan"):
        what = "infinity" if "inf" in text.lower() else "not-a-number"
        return f"'{text}' is {what} in YAML, not a number a calculation can use", f"write a number, or {quotes}"
    if tag == "int" and text[:2] in ("0o", "0x"):
        value = int(text[2:], 8 if text[1] == "o" else 16)
        return (f"'{text}' is a whole number in {'octal' if text[1] == 'o' else 'hexadecimal'} ({value})",
                f"write {value}, or {quotes}")
    old_tag = _YAML_1_1.resolve(ScalarNode, text, (True, False)).removeprefix(_TAG)
    leading_zero = tag == "int" and not _DECIMAL_INT.fullmatch(text)
    if not leading_zero and (old_tag == tag or old_tag not in ("int", "float", "bool", "timestamp")):
        return None  # read alike (decimals stay text both ways), or a number to YAML 1.2 only (1e3)
    old_tag, old = _yaml_1_1(text, old_tag)
    if leading_zero:
        message = f"'{text}' is a whole number written with a leading zero"
        if (old_tag, old) != ("int", int(text)):
            message += f": YAML 1.1 reads it as {_as_read(old_tag, old)}, YAML 1.2 as {int(text)}"
        return message, f"write {int(text)} for the number, or put it in quotes ('{text}') if it is a code"
    message = f"'{text}' is {_as_read(old_tag, old)} in YAML 1.1 but {_as_read(tag, text)} in YAML 1.2"
    if old_tag == "bool":
        return message, f"write {str(old).lower()} for a yes/no setting, or {quotes} (a country code?)"
    if old_tag == "timestamp":
        return message, f"put it in quotes ('{text}'): a methodology holds no date values, only texts and expressions"
    return message, f"write {old} for the number, or {quotes}"


@dataclass(frozen=True)
class ScalarText:
    """Where a scalar's text starts and how it was written (to position expressions in it)."""

    span: Span
    style: str | None  # None (plain), "'", '"', '|', '>'


@dataclass(frozen=True)
class YamlDocument:
    """Plain data plus spans of values (by path), of keys (by path) and scalar styles."""

    source: SourceFile
    data: Any
    value_spans: dict[Path, Span]
    key_spans: dict[Path, Span]
    scalars: dict[Path, ScalarText]

    def span(self, path: Path) -> Span:
        """Span of the value at path, or of the closest enclosing value."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.value_spans:
                return self.value_spans[path[:cut]]
        return Span(self.source.path, 1, 1, 1, 1)

    def key_span(self, path: Path) -> Span:
        return self.key_spans.get(path) or self.span(path)

    def char_positions(self, path: Path) -> list[tuple[int, int]] | None:
        """(line, column) in the file of every character of the scalar's value, and of its end.

        YAML rewrites a scalar's text: it folds line breaks, drops indentation, and resolves
        quote escapes (\\" and ''). Walking the value and the file text side by side recovers,
        for each character of the value, where the author wrote it. None if they don't align.
        """
        scalar = self.scalars.get(path)
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        if scalar is None or not isinstance(value, str):
            return None
        return _align(self.source.text, self._line_starts, scalar, value)

    @cached_property
    def _line_starts(self) -> list[int]:
        return list(self.source.line_starts)


_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}


def _align(text: str, starts: list[int], scalar: ScalarText, value: str) -> list[tuple[int, int]] | None:
    if not 1 <= scalar.span.line <= len(starts):
        return None
    i = starts[scalar.span.line - 1] + scalar.span.column - 1
    if scalar.style in ("'", '"'):
        i += 1  # past the opening quote
    elif scalar.style in ("|", ">"):
        if scalar.span.line >= len(starts):
            return None
        i = starts[scalar.span.line]  # the text starts on the line after the indicator
    end = starts[scalar.span.end_line - 1] + scalar.span.end_column - 1 if scalar.span.end_line <= len(starts) else len(text)
    offsets: list[int] = []
    for ch in value:
        if i > end:
            return None
        if ch in " \n":  # folded or kept whitespace: the next run of spaces and line breaks
            offsets.append(i)
            while i < end and (text[i] in " \t\r\n\x85\u2028\u2029" or (scalar.style == '"' and text[i : i + 2] == "\\\n")):
                i += 2 if text[i] == "\\" else 1
            continue
        if i < len(text) and text[i] == ch and not (scalar.style == '"' and ch == "\\"):
            offsets.append(i)
            i += 2 if scalar.style == "'" and ch == "'" and text[i : i + 2] == "''" else 1
        elif scalar.style == '"' and i < len(text) and text[i] == "\\":
            offsets.append(i)
            i += _ESCAPE_LENGTH.get(text[i + 1 : i + 2], 2)
        else:
            found = text.find(ch, i, end)
            if found < 0:
                return None
            offsets.append(found)
            i = found + 1
    offsets.append(i)
    out = []
    for off in offsets:
        line = _bisect(starts, off)
        out.append((line + 1, off - starts[line] + 1))
    return out


def _bisect(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1


def _span(source: SourceFile, node: Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(source.path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Builder:
    def __init__(self, source: SourceFile, dates_as_text: bool = False):
        self.source = source
        self.dates_as_text = dates_as_text
        self.values: dict[Path, Span] = {}
        self.keys: dict[Path, Span] = {}
        self.scalars: dict[Path, ScalarText] = {}
        self.errors: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader("")

    def build(self, node: Node, path: Path) -> Any:
        self.values[path] = _span(self.source, node)
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            first: dict[Any, Span] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                    self.errors.append(Diagnostic("E102", "a key must be a plain name", _span(self.source, key_node)))
                    continue
                key = self._scalar(key_node)
                key_span = _span(self.source, key_node)
                if key in first:
                    self.errors.append(
                        Diagnostic(
                            "E103",
                            f"duplicate key '{key}' (first given on line {first[key].line})",
                            key_span,
                            suggestion="remove one of the two, or rename it",
                        )
                    )
                    continue
                first[key] = key_span
                self.keys[path + (key,)] = key_span
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        self.scalars[path] = ScalarText(_span(self.source, node), node.style)
        value = self._scalar(node)
        if isinstance(value, str) and "\x00" in value:  # a "\0" escape: no database can store it
            self.errors.append(Diagnostic("E107", "a text cannot contain the NUL character (\\0)", _span(self.source, node)))
        return value

    def _scalar(self, node: ScalarNode) -> Any:
        """A key's or value's data; a value that is not read alike by YAML 1.1 and 1.2 is an error."""
        if (node.style is None and getattr(node, "ccf_plain", False)
                and not (self.dates_as_text and _ISO_DATE.fullmatch(node.value))
                and (problem := _ambiguous(node.value))):
            message, suggestion = problem
            self.errors.append(Diagnostic("E108", message, _span(self.source, node), suggestion=suggestion))
            return node.value
        if node.tag.endswith(":float"):
            return node.value  # decimals stay text: they become Decimals, never floats
        try:
            return self._core(node)
        except yaml.YAMLError:
            raise
        except Exception:  # a standard tag's conversion failed: '!!int x', '!!int', a date 2024-02-30
            kind = node.tag.rsplit(":", 1)[-1]
            kind = {"timestamp": "date", "int": "whole number", "bool": "true/false"}.get(kind, kind)
            self.errors.append(
                Diagnostic(
                    "E101", f"'{node.value}' cannot be read as a {kind}", _span(self.source, node),
                    suggestion="check the value, or put it in quotes to keep it as text",
                )
            )
            return node.value

    def _core(self, node: ScalarNode) -> Any:
        """The value of a scalar by its tag; null, true/false and whole numbers as the YAML 1.2
        core schema writes them (also under an explicit tag: '!!int 0x10' is refused too)."""
        kind, text = node.tag.removeprefix(_TAG), node.value
        if kind == "null" and text in _NULL:
            return None
        if kind == "bool" and text in _TRUE + _FALSE:
            return text in _TRUE
        if kind == "int" and _DECIMAL_INT.fullmatch(text):
            return int(text)
        if kind in ("null", "bool", "int"):
            raise ValueError(text)
        return self._constructor.construct_object(node)


def _check_depth(source: SourceFile, events: list[yaml.Event]) -> None:
    """Refuse a file nested deeper than MAX_DEPTH, at the mapping or list that goes too deep
    (composing and checking a file recurse once per level)."""
    depth = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                m = event.start_mark
                raise DiagnosticError([Diagnostic(
                    "E109", f"the file nests mappings and lists more than {MAX_DEPTH} levels deep",
                    Span(source.path, m.line + 1, m.column + 1, m.line + 1, m.column + 2),
                    suggestion="a methodology needs a few levels; check the indentation and brackets here",
                )])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_error(source: SourceFile, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """PyYAML's complaint in the author's words, at the place the author has to fix."""
    mark = exc.problem_mark or exc.context_mark
    problem = (exc.problem or exc.context or "malformed YAML").strip()
    context = (exc.context or "").strip()
    message, suggestion = f"this is not valid YAML: {problem}", "check the indentation and that ':' is followed by a space"
    if problem.startswith("found character '\\t'"):
        message, suggestion = "a tab character is not allowed here", "YAML is indented with spaces only: replace the tab with spaces"
    elif problem.startswith("found character") and "cannot start any token" in problem:
        ch = problem.split("'")[1]
        message, suggestion = f"a value cannot start with '{ch}'", "put the value in quotes"
    elif problem.startswith("found undefined alias"):
        message, suggestion = "a value cannot start with '*' (YAML reads it as a reference)", "put the value in quotes"
    elif problem.startswith("could not determine a constructor for the tag '!"):
        message = "a value cannot start with '!' (YAML reads it as a type tag)"
        suggestion = "put the value in quotes; to negate a condition, write 'not'"
    elif problem.startswith("expected <block end>") and problem.endswith("found '<scalar>'"):
        message = "unexpected text after a quoted value"
        suggestion = (
            "when a value starts with a quote, YAML takes only the text up to the closing quote: "
            "put the whole value in quotes of the other kind, or reorder it (country == \"GB\")"
        )
    elif problem.startswith("found unknown escape character"):
        message = "a backslash '\\' in \"double quotes\" starts an escape such as \\n; this one is unknown"
        suggestion = "use 'single quotes' around the text, or write \\\\ for a backslash"
    elif context == "while scanning a quoted scalar" and "end of stream" in problem and exc.context_mark is not None:
        mark = exc.context_mark
        quote = source.line(mark.line + 1)[mark.column : mark.column + 1] or '"'
        message, suggestion = "this quoted text is never closed", f"add the closing {quote} at the end of the text"
    elif context == "while scanning a simple key" and exc.context_mark is not None:
        mark = exc.context_mark
        message, suggestion = "expected 'key: value' here", "a key is followed by ':' and a space; a long text must be indented under its key"
    elif problem == "mapping values are not allowed here":
        message = "a ':' is not allowed here"
        suggestion = (
            "if this line starts a new key, indent it exactly like the keys above it; "
            "if the ':' is part of a text, put the whole text in quotes"
        )
    elif problem == "sequence entries are not allowed here":
        message = "a value cannot start with '- ' here: YAML reads it as a list item"
        suggestion = "write a minus sign without a space after it (-x), or put the whole value in quotes"
    elif context in ("while parsing a flow mapping", "while parsing a flow sequence") and exc.context_mark is not None and (
        exc.problem_mark is None or exc.problem_mark.line > exc.context_mark.line
    ):
        mark = exc.context_mark
        bracket = source.line(mark.line + 1)[mark.column : mark.column + 1] or "{"
        message = f"this '{bracket}' is never closed"
        suggestion = f"close it with '{ {'{': '}', '[': ']'}.get(bracket, '}') }' on the same line"
    elif context in ("while parsing a flow mapping", "while parsing a flow sequence"):
        got = problem.rsplit("but got ", 1)[-1] if "but got " in problem else None
        message = (
            f"{got} cannot be used inside {{ … }} or [ … ] without quotes"
            if got and got.startswith("'")
            else f"this {{ … }} or [ … ] is not well formed: {problem}"
        )
        suggestion = (
            "inside { } and [ ], the characters , : ? # [ ] { } need the value in quotes; "
            "or write the entries as indented 'key: value' lines"
        )
    elif problem.startswith("expected <block end>") and problem.endswith(("found ']'", "found '}'")):
        message = f"this '{problem[-2]}' has no matching opening bracket"
        suggestion = "remove it, or add the missing opening bracket"
    elif problem.startswith("expected <block end>"):
        message = "this line is not indented like the lines above it"
        suggestion = "keys of one mapping, and the '-' items of one list, must start in the same column"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if line > max(source.line_count, 1):  # the end of the input, after its final line break: shown at its last line's end
        line = max(source.line_count, 1)
        col = len(source.line(line)) + 1
    return Diagnostic("E101", message, Span(source.path, line, col, line, col + 1), suggestion=suggestion)


# A plain calendar date, which YAML 1.2 reads as its text: in a file of data (test cases' activity
# rows, written as in a CSV) that text is what is meant, so ``dates_as_text`` lets it stand.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def load_yaml(source: SourceFile, dates_as_text: bool = False) -> YamlDocument:
    """Parse one YAML document strictly; raise DiagnosticError on any problem. With
    ``dates_as_text`` a plain date such as 2025-01-31 is its text, not an E108 error."""
    if "\ufffd" in source.text:
        raise DiagnosticError([Diagnostic("E100", "the file is not valid UTF-8 text", Span(source.path, 1, 1, 1, 2))])
    try:
        events = list(yaml.parse(source.text, Loader=_Parser))
        _check_depth(source, events)
        nodes = _Composer(events).nodes()
    except yaml.MarkedYAMLError as exc:
        raise DiagnosticError([_yaml_error(source, exc)]) from None
    except yaml.reader.ReaderError as exc:
        line, col = source.position(exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise DiagnosticError(
            [
                Diagnostic(
                    "E101",
                    f"the file contains a control character (#x{code:04x}) that YAML does not allow",
                    Span(source.path, line, col, line, col + 1),
                    suggestion="remove it (a stray character from copying and pasting?)",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic("E101", f"this is not valid YAML: {exc}", Span.unknown(source.path))]) from None
    if not nodes or (len(nodes) == 1 and nodes[0].tag.endswith(":null") and not nodes[0].value):
        raise DiagnosticError(
            [
                Diagnostic(
                    "E104", "the file is empty", Span(source.path, 1, 1, 1, 1),
                    suggestion="a methodology starts with 'methodology: <id>' and 'version: <x.y.z>'",
                )
            ]
        )
    if len(nodes) > 1:
        starts = [e.start_mark for e in events if isinstance(e, yaml.DocumentStartEvent)]
        span = _span(source, nodes[1])
        if len(starts) > 1:
            m = starts[1]
            span = Span(source.path, m.line + 1, m.column + 1, m.line + 1, m.column + 4)
        raise DiagnosticError(
            [
                Diagnostic(
                    "E105",
                    "a second YAML document starts here; a file holds exactly one methodology",
                    span,
                    suggestion="remove the '---' line, or put the second one in a file of its own",
                )
            ]
        )
    aliases = [e for e in events if isinstance(e, yaml.AliasEvent)]
    if aliases:
        raise DiagnosticError(
            [
                Diagnostic(
                    "E106",
                    "references to other values ('*' with '&') are not supported in these files",
                    Span(source.path, m.line + 1, m.column + 1, m.line + 1, m.column + 1 + len(e.anchor or "") + 1),
                    suggestion="write the value out in full",
                )
                for e in aliases
                for m in [e.start_mark]
            ]
        )
    builder = _Builder(source, dates_as_text)
    try:
        data = builder.build(nodes[0], ())
    except yaml.MarkedYAMLError as exc:
        raise DiagnosticError([_yaml_error(source, exc)]) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic("E101", f"this is not valid YAML: {exc}", _span(source, nodes[0]))]) from None
    if builder.errors:
        raise DiagnosticError(builder.errors)
    return YamlDocument(source, data, builder.values, builder.keys, builder.scalars)
