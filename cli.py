"""The ``price-opt`` command: a thin Typer edge over the ``pricing`` library.

Each command loads its inputs, calls the library and renders the result. Errors are caught in
one place (:func:`main`): a :class:`pricing.errors.PriceOptError` prints ``error: <message>``
and exits with its code; nothing here prints a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec

import typer
from rich.console import Console

from pricing.errors import InputError, PriceOptError

app = typer.Typer(
    name="price-opt",
    help="Promotion pricing and coupon-stacking optimizer for Taobao/Tmall stores, "
    "with a no-loss proof for every plan.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
P = ParamSpec("P")

ProductsArg = Annotated[
    Path | None,
    typer.Argument(help="Products file (.csv or .xlsx). Default: the bundled sample catalogue."),
]
RulesOpt = Annotated[
    Path | None,
    typer.Option("--rules", "-r", help="Rules file (.toml). Default: the bundled sample rules."),
]


def report_warnings(error_or_warnings: InputError | list[str]) -> None:
    """Print input warnings (they never stop a command)."""
    lines = (
        [w.render() for w in error_or_warnings.warnings]
        if isinstance(error_or_warnings, InputError)
        else error_or_warnings
    )
    for line in lines:
        err_console.print(f"[yellow]warning:[/yellow] {line}", highlight=False)


def handles_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Run a command, turning a :class:`PriceOptError` into ``error: …`` and its exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except InputError as error:
            report_warnings(error)
            err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except PriceOptError as error:
            err_console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None

    return run


# --- commands ---------------------------------------------------------------------------------


# --- end of commands ---------------------------------------------------------------------------


def main() -> None:
    """Entry point of the ``price-opt`` command."""
    app()


if __name__ == "__main__":
    main()
