"""Nothing the user had is overwritten, nothing is left behind: outputs, --force, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from plan_examples import plan_with_files
from typer.testing import CliRunner

import cli
from pricing.outputs.guard import LEDGER_NAME, written_by_price_opt
from pricing.runtime import Interrupted, guarded_run

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


# --- an output is never an input ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["export", "report"])
@pytest.mark.parametrize("target", ["plan.json", "products.csv", "rules.toml"])
def test_export_and_report_refuse_to_write_over_an_input(
    tmp_path: Path, command: str, target: str
) -> None:
    """GIVEN a plan whose recorded products and rules are files beside it
    WHEN export or report is asked to write over the plan or a file the plan records
    THEN it is refused before any work (exit 2: the --out value is wrong), nothing changes."""
    _, _, plan_path = plan_with_files(tmp_path)
    before = _files(tmp_path)
    result = runner.invoke(cli.app, [command, str(plan_path), "--out", str(tmp_path / target)])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "choose another output path" in result.output
    assert _files(tmp_path) == before


def test_plan_refuses_to_write_over_its_products_even_through_a_symlink(tmp_path: Path) -> None:
    _, _, _ = plan_with_files(tmp_path)
    products = tmp_path / "products.csv"
    (tmp_path / "link.csv").symlink_to(products)
    before = products.read_bytes()
    for out in (products, tmp_path / "link.csv"):
        result = runner.invoke(cli.app, ["plan", str(products), "--rules",
                                         str(tmp_path / "rules.toml"), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert "this is the products file" in " ".join(result.output.split())
    assert products.read_bytes() == before


def test_a_hard_link_to_the_rules_is_the_rules(tmp_path: Path) -> None:
    _, _, _ = plan_with_files(tmp_path)
    os.link(tmp_path / "rules.toml", tmp_path / "same.json")
    result = runner.invoke(cli.app, ["plan", str(tmp_path / "products.csv"), "--rules",
                                     str(tmp_path / "rules.toml"), "--out",
                                     str(tmp_path / "same.json")])
    assert result.exit_code == 2 and "this is the rules file" in " ".join(result.output.split())


def test_export_refuses_a_plan_xlsx_as_its_own_output(tmp_path: Path) -> None:
    from pricing.formats.plans import read_plan, write_plan

    _, _, plan_path = plan_with_files(tmp_path)
    xlsx = tmp_path / "plan.xlsx"
    write_plan(read_plan(plan_path), xlsx)
    before = xlsx.read_bytes()
    result = runner.invoke(cli.app, ["export", str(xlsx), "--out", str(xlsx)])
    assert result.exit_code == 2 and xlsx.read_bytes() == before


def test_witness_dir_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    _, _, _ = plan_with_files(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    result = runner.invoke(cli.app, ["check", str(tmp_path / "products.csv"), "--rules",
                                     str(tmp_path / "rules.toml"), "--witness-dir", str(a_file)])
    assert result.exit_code == 2, result.output
    assert "expected a folder" in result.output and "Traceback" not in result.output
    assert a_file.read_text(encoding="utf-8") == "mine"


# --- a file price-opt did not write is replaced only with --force ------------------------------


def test_a_hand_edited_sheet_is_not_replaced_without_force_and_kept_as_bak_with_it(
    tmp_path: Path,
) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    sheet = tmp_path / "报名表.csv"
    first = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(sheet)])
    assert first.exit_code == 0, first.output
    assert written_by_price_opt(sheet) and (tmp_path / LEDGER_NAME).is_file()
    again = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(sheet)])
    assert again.exit_code == 0, again.output  # its own output: replaced silently
    assert not (tmp_path / "报名表.csv.bak").exists()

    edited = sheet.read_bytes() + "手工备注\r\n".encode()
    sheet.write_bytes(edited)
    refused = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(sheet)])
    assert refused.exit_code == 2, refused.output
    assert "--force" in refused.output and sheet.read_bytes() == edited

    forced = runner.invoke(cli.app, ["export", str(plan_path), "--out", str(sheet), "--force"])
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "报名表.csv.bak").read_bytes() == edited
    assert sheet.read_bytes() != edited and written_by_price_opt(sheet)


def test_report_over_a_users_file_needs_force(tmp_path: Path) -> None:
    _, _, plan_path = plan_with_files(tmp_path)
    out = tmp_path / "report.html"
    out.write_text("<p>my notes</p>", encoding="utf-8")
    refused = runner.invoke(cli.app, ["report", str(plan_path), "--out", str(out)])
    assert refused.exit_code == 2 and out.read_text(encoding="utf-8") == "<p>my notes</p>"


def test_a_corrupt_ledger_only_makes_price_opt_more_careful(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    out.write_text("{}", encoding="utf-8")
    (tmp_path / LEDGER_NAME).write_text("[not json", encoding="utf-8")
    assert not written_by_price_opt(out)
    (tmp_path / LEDGER_NAME).write_text(json.dumps({"files": {"plan.json": {"sha256": 5}}}),
                                        encoding="utf-8")
    assert not written_by_price_opt(out)


# --- usage errors exit 2 -----------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["plan", "--solver", "gurobi"], ["plan", "--method", "fast"], ["plan", "--gap", "2"],
    ["plan", "--time-limit", "-1"], ["check", "--discount", "2"], ["check", "--coupons", "x"],
    ["plan", "--show", "many"],
])
def test_invalid_option_values_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(cli.app, [*args, *(["--out", str(tmp_path / "p.json")]
                                             if args[0] == "plan" else [])])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "p.json").exists()


# --- signals and temporary files ---------------------------------------------------------------


def test_sigterm_inside_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    from pricing.formats.atomic import write_atomic

    target = tmp_path / "out.txt"
    solver_litter: list[Path] = []

    def write(temp_path: Path) -> None:
        temp_path.write_text("half", encoding="utf-8")
        import tempfile

        litter = Path(tempfile.gettempdir()) / "abc-pulp.mps"  # as PuLP would leave it
        litter.write_text("model", encoding="utf-8")
        solver_litter.append(litter)
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Interrupted) as stopped:
        guarded_run(lambda: write_atomic(target, write))
    assert stopped.value.exit_code == 143
    assert list(tmp_path.iterdir()) == []
    assert solver_litter and not solver_litter[0].exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


_KILL_DURING_WRITE = textwrap.dedent("""
    import os, signal, sys
    import pricing.formats.atomic as atomic
    original = atomic.write_atomic
    chosen = getattr(signal, sys.argv[1])

    def write_then_signal(path, write):
        def inner(temp_path):
            write(temp_path)
            os.kill(os.getpid(), chosen)
        original(path, inner)

    atomic.write_atomic = write_then_signal
    import cli
    sys.argv = ["price-opt", "plan", sys.argv[3], "--out", sys.argv[2], "--show", "0",
                "--method", "milp"]
    cli.main()
""")


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_signal_during_plan_gives_one_line_and_no_litter(
    tmp_path: Path, small_store: Path, name: str, code: int
) -> None:
    """GIVEN `price-opt plan` stopped by Ctrl-C or SIGTERM while writing its output
    THEN one line says so, the exit code is 128 + the signal, and neither the output, its
    temporary file nor any solver file is left."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", _KILL_DURING_WRITE, name, str(work / "plan.json"),
         str(small_store)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300,
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()] == [
        f"interrupted: stopped by {name}; no output was left half-written"
    ]
    assert list(work.iterdir()) == [] and list(temp.iterdir()) == []


def test_a_solver_failure_is_exit_4_and_leaves_no_solver_files(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys, tempfile
        from pathlib import Path
        import pulp

        def broken(self, lp):
            Path(tempfile.gettempdir(), "deadbeef-pulp.mps").write_text("model")
            raise pulp.PulpSolverError("Pulp: Error while executing cbc")

        pulp.PULP_CBC_CMD.actualSolve = broken
        import cli
        sys.argv = ["price-opt", "plan", "--out", sys.argv[1], "--show", "0",
                    "--method", "milp"]
        cli.main()
    """)
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "plan.json")], capture_output=True,
        text=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(temp)}, timeout=300,
    )
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr and "solver failed" in done.stderr
    assert list(temp.iterdir()) == [] and not (tmp_path / "plan.json").exists()
