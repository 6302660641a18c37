"""Strict YAML: plain data plus the span of every key and value; duplicate keys are errors.

PyYAML silently keeps the last of two equal keys; here the second one is a diagnostic with
its line. The result is the data (dicts, lists, strings, ints, ...) and a table from each
path (tuple of keys/indices) to the span of the value at that path, so later stages (pydantic
validation, expression parsing) can point at the author's text.
"""

from __future__ import annotations

from dataclasses import dataclass
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
                if not isinstance(key_node, ScalarNode):
                    self.errors.append(Diagnostic("E102", "a key must be a plain name", _span(self.source, key_node)))
                    continue
                key = self._constructor.construct_object(key_node)
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
        return self._constructor.construct_object(node)


def load_yaml(source: SourceFile) -> YamlDocument:
    """Parse one YAML document strictly; raise DiagnosticError on any problem."""
    if "\ufffd" in source.text:
        raise DiagnosticError([Diagnostic("E100", "the file is not valid UTF-8 text", Span(source.path, 1, 1, 1, 2))])
    try:
        nodes = list(yaml.compose_all(source.text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = (exc.problem or exc.context or "malformed YAML").strip()
        raise DiagnosticError(
            [
                Diagnostic(
                    "E101",
                    f"this is not valid YAML: {problem}",
                    Span(source.path, line, col, line, col + 1),
                    suggestion="check the indentation and that ':' is followed by a space",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic("E101", f"this is not valid YAML: {exc}", Span.unknown(source.path))]) from None
    if not nodes or nodes[0] is None:
        raise DiagnosticError([Diagnostic("E104", "the file is empty", Span(source.path, 1, 1, 1, 1))])
    if len(nodes) > 1:
        raise DiagnosticError(
            [Diagnostic("E105", "a file holds exactly one document; found a second '---'", _span(source, nodes[1]))]
        )
    builder = _Builder(source)
    try:
        data = builder.build(nodes[0], ())
    except yaml.YAMLError as exc:
        raise DiagnosticError([Diagnostic("E101", f"this is not valid YAML: {exc}", _span(source, nodes[0]))]) from None
    if builder.errors:
        raise DiagnosticError(builder.errors)
    return YamlDocument(source, data, builder.values, builder.keys, builder.scalars)
