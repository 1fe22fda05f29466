"""``python -m labnotes.analysis <analysis> --input FILE.csv [options]``: one JSON object out.

The dispatcher imports only the analysis asked for, so start-up costs numpy and that module's
scipy parts, nothing else (no Django). Every analysis module follows one contract::

    def add_arguments(parser: argparse.ArgumentParser) -> None
    def run(args: argparse.Namespace) -> dict[str, object]   # JSON-serialisable

Exit codes: 0 with the JSON object on stdout; 2 with one line on stderr for bad input (row, column
and reason from :class:`~labnotes.analysis.errors.AnalysisInputError`), a bad option or an
analysis this installation does not have. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn, Protocol

from labnotes.analysis.errors import AnalysisInputError

#: analysis name → module implementing the contract
ANALYSES: dict[str, str] = {
    "growth": "labnotes.analysis.growth",
    "survival": "labnotes.analysis.survival",
    "synergy": "labnotes.analysis.synergy",
    "elisa": "labnotes.analysis.elisa",
    "randomize": "labnotes.analysis.randomization",
}

EXIT_OK = 0
EXIT_BAD_INPUT = 2

PROG = "python -m labnotes.analysis"


class _Writer(Protocol):
    def write(self, text: str, /) -> object: ...


class UsageError(Exception):
    """A bad command line; carries the one-line message."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _jsonable(value: object) -> object:
    """Plain JSON types; NaN and ±inf become ``None`` (a safety net behind each module)."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item):
        return _jsonable(item())
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _jsonable(tolist())
    raise TypeError(f"analysis returned a value JSON cannot hold: {type(value).__name__}")


def _top_parser() -> _OneLineParser:
    parser = _OneLineParser(
        prog=PROG,
        description="Run a Vivolog analysis on a CSV file and print one JSON object.",
        epilog="analyses: " + ", ".join(ANALYSES) + f". Options of one: {PROG} <analysis> --help",
    )
    parser.add_argument("analysis", choices=list(ANALYSES), help="which analysis to run")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: _Writer | None = None,
    stderr: _Writer | None = None,
) -> int:
    """Run one analysis; returns the exit code (0 success, 2 bad input or usage)."""
    out: _Writer = stdout if stdout is not None else sys.stdout
    err: _Writer = stderr if stderr is not None else sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        if not arguments or arguments[0] not in ANALYSES:
            if not arguments or arguments[0] in {"-h", "--help"}:
                out.write(_top_parser().format_help())
                return EXIT_OK if arguments else EXIT_BAD_INPUT
            _top_parser().parse_args(arguments[:1])
        name = arguments[0]
        module_name = ANALYSES[name]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            raise UsageError(
                f"{PROG}: analysis '{name}' is not available in this "
                f"installation ({module_name} is missing)"
            ) from None
        parser = _OneLineParser(prog=f"{PROG} {name}", conflict_handler="resolve")
        parser.add_argument("--input", required=True, metavar="FILE.csv", help="input CSV file")
        module.add_arguments(parser)
        try:
            args = parser.parse_args(arguments[1:])
        except SystemExit as exit_request:  # --help
            return int(exit_request.code or 0)
        result = module.run(args)
    except UsageError as exc:
        err.write(f"{exc}\n")
        return EXIT_BAD_INPUT
    except AnalysisInputError as exc:
        err.write(f"error: {exc.describe()}\n")
        return EXIT_BAD_INPUT
    out.write(json.dumps(_jsonable(result), allow_nan=False, ensure_ascii=False) + "\n")
    return EXIT_OK
