"""Shared test set-up: the CLI speaks English in tests unless a test asks for Chinese; the
costly runs on the bundled samples happen once per session.

Planning, checking, exporting or reporting the sample store (60 SKUs) runs the exact checker's
witness search over every product: seconds each on two cores. Tests that only read such a
result share one run through the session fixtures below (:func:`sample_plan`,
:func:`sample_check_at_half`); tests about a command's options or messages, where the size of
the store is not the point, run it on :func:`small_store`, ten of the sample's SKUs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pricing.commands import CheckRun


def pytest_configure(config: pytest.Config) -> None:
    """Commands default to the user's language (zh when unsure); tests read English output
    unless they pass ``--lang zh`` or set ``PRICE_OPT_LANG`` themselves."""
    os.environ["PRICE_OPT_LANG"] = "en"


@dataclass(frozen=True)
class PlannedStore:
    """A plan file written by ``price-opt plan`` and what the command printed."""

    path: Path
    output: str

    @property
    def document(self) -> dict[str, Any]:
        """The plan file as JSON."""
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded

    def copy_to(self, folder: Path, name: str = "plan.json") -> Path:
        """The plan file copied into ``folder``, for a test that writes beside it or over it
        (the shared file itself is never changed)."""
        return Path(shutil.copyfile(self.path, folder / name))


def _plan(folder: Path, args: list[str]) -> PlannedStore:
    from typer.testing import CliRunner

    import cli

    with contextlib.chdir(folder):
        result = CliRunner().invoke(cli.app, ["plan", *args])
    assert result.exit_code == 0, result.output
    assert (folder / "plan.json").is_file()
    return PlannedStore(folder / "plan.json", result.output)


@pytest.fixture(scope="session")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> PlannedStore:
    """``price-opt plan`` with no arguments (the README's first command), once per session in
    an empty folder: the bundled samples planned, verified and written to ``plan.json``."""
    return _plan(tmp_path_factory.mktemp("sample-plan"), [])


@pytest.fixture(scope="session")
def sample_check_at_half() -> CheckRun:
    """``price-opt check --discount 5折`` on the samples, as the library runs it, once."""
    from pricing.commands import run_check

    return run_check(None, None, "5折")


# Ten of the sample's 60 SKUs: heroes at 1:18 and 1:24, a traffic item, two that survive half
# price and six that lose at it (display cases and the cheap scales).
SMALL_STORE_SKUS = ("M18-911GT3-WH", "M18-GTR35-BK", "M24-AE86-WB", "M24-DEF90-GR",
                    "M24-MUSGT-YL", "M43-911-RD", "M64-AE86-WB", "M64-DEF-OR", "ACC-CASE43",
                    "ACC-WALL64")


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A products file with ten of the sample's rows (same header, same encoding), for the
    command tests where the store's size is not the point. Rules: the sample rules."""
    from pricing.formats.samples import sample_products_path

    lines = sample_products_path().read_text(encoding="utf-8-sig").splitlines()
    kept = [line for line in lines[1:] if line.split(",", 1)[0] in SMALL_STORE_SKUS]
    assert len(kept) == len(SMALL_STORE_SKUS)
    path = tmp_path_factory.mktemp("small-store") / "products.csv"
    path.write_text("\n".join([lines[0], *kept]) + "\n", encoding="utf-8-sig")
    return path


@pytest.fixture(scope="session")
def small_plan(tmp_path_factory: pytest.TempPathFactory, small_store: Path) -> PlannedStore:
    """:func:`small_store` planned once per session (``price-opt plan products.csv``)."""
    return _plan(tmp_path_factory.mktemp("small-plan"), [str(small_store)])
