"""The command line's shared conventions (docs/commands.md#conventions): ``--json`` on every
command that prints, and an old spelling kept working as a deprecated alias that says so."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def json_flag(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--json``: machine-readable output instead of text."""
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


class DeprecatedAlias(argparse.Action):
    """An option's old spelling: stores into the new one's ``dest`` and warns on stderr. Added
    with ``help=argparse.SUPPRESS`` and ``new="--the-new-spelling"``."""

    def __init__(self, option_strings: list[str], dest: str, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        deprecated(f"{option_string}", self.new)
        setattr(namespace, self.dest, values)


def deprecated(old: str, new: str) -> None:
    """Warn that a spelling is deprecated, naming the one to use."""
    sys.stderr.write(f"warning: '{old}' is deprecated and will be removed; use '{new}'\n")
