"""Strict YAML: plain data plus the span of every key and value; duplicate keys are errors.

PyYAML silently keeps the last of two equal keys; here the second one is a diagnostic with
its line. The result is the data (dicts, lists, strings, ints, ...) and a table from each
path (tuple of keys/indices) to the span of the value at that path, so later stages (pydantic
validation, expression parsing) can point at the author's text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ccf.dsl.diagnostics import Diagnostic, DiagnosticError
from ccf.dsl.source import SourceFile, Span

Path = tuple[str | int, ...]


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
    def __init__(self, source: SourceFile):
        self.source = source
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
        if node.tag.endswith(":float"):
            return node.value  # decimals stay text: they become Decimals, never floats
        value = self._scalar(node)
        if isinstance(value, str) and "\x00" in value:  # a "\0" escape: no database can store it
            self.errors.append(Diagnostic("E107", "a text cannot contain the NUL character (\\0)", _span(self.source, node)))
        return value

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self._constructor.construct_object(node)
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
    return Diagnostic("E101", message, Span(source.path, line, col, line, col + 1), suggestion=suggestion)


def load_yaml(source: SourceFile) -> YamlDocument:
    """Parse one YAML document strictly; raise DiagnosticError on any problem."""
    if "\ufffd" in source.text:
        raise DiagnosticError([Diagnostic("E100", "the file is not valid UTF-8 text", Span(source.path, 1, 1, 1, 2))])
    try:
        nodes = list(yaml.compose_all(source.text, Loader=yaml.SafeLoader))
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
        starts = [e.start_mark for e in yaml.parse(source.text, Loader=yaml.SafeLoader) if isinstance(e, yaml.DocumentStartEvent)]
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
    aliases = [e for e in yaml.parse(source.text, Loader=yaml.SafeLoader) if isinstance(e, yaml.AliasEvent)]
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
    builder = _Builder(source)
    try:
        data = builder.build(nodes[0], ())
    except yaml.MarkedYAMLError as exc:
        raise DiagnosticError([_yaml_error(source, exc)]) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic("E101", f"this is not valid YAML: {exc}", _span(source, nodes[0]))]) from None
    if builder.errors:
        raise DiagnosticError(builder.errors)
    return YamlDocument(source, data, builder.values, builder.keys, builder.scalars)
