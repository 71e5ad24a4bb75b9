"""The issue-4 benchmark: price-opt against the plain PuLP + CBC reference, in one run.

    python benchmarks/run.py [--sizes 1000,10000,100000,300000] [--reference-max 100000]
                             [--reference-time-limit 600] [--solver cbc] [--variants plain,budget]

For each size a seeded synthetic catalogue is generated (:mod:`synthetic`: 10 ladder levels,
8 coupon candidates, rules without and with a budget). Each variant is then measured twice,
each time in a fresh process (:mod:`measure`) so that the peak memory is that run's own:

* **price-opt**: read the CSV and rules (:mod:`pricing.formats.products`,
  :mod:`pricing.formats.rules`), then
  :func:`pricing.optimize.planner.make_plan`: candidate table, model build, solve, exact
  verification;
* **reference**: read the same files, then the plain PuLP model of :mod:`reference` (one binary
  per product-row, pairwise tier links, CBC), skipped above ``--reference-max`` SKUs.

It prints a table of the figures and, per size, the speed-up (reference end to end ÷ price-opt
end to end) and the objective difference, and writes ``benchmarks/results.md`` atomically.
Figures are wall-clock seconds on this machine; "peak RSS" is the Python process's peak plus
the solver subprocess's peak (the two run at once, so their sum bounds the total from above).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from synthetic import BenchmarkCase, write_case

from pricing.formats.atomic import write_text_atomic

HERE = Path(__file__).resolve().parent

DEFAULT_SIZES = (1_000, 10_000, 100_000, 300_000)
RESULTS = HERE / "results.md"
# Beyond the solver's own time limit, how long a run may take to read and build before it is
# stopped (the plain model spends minutes in PuLP at 100k SKUs before CBC starts).
BUILD_ALLOWANCE_SECONDS = 1800
GIB = 1024**3
MIB = 1024**2

# Wide enough for the table when the output is a file or a pipe (rich assumes 80 columns).
console = Console(width=None if sys.stdout.isatty() else 180)


@dataclass(frozen=True)
class Measurement:
    """One engine on one case: what measure.py reported, or why there is nothing."""

    size: int
    variant: str  # plain | budget
    engine: str  # price-opt | reference
    outcome: dict[str, Any] | None
    note: str = ""  # "skipped (> N)", "no result in T s", an error

    @property
    def ok(self) -> bool:
        return self.outcome is not None and self.outcome.get("objective_fen") is not None

    def seconds(self, step: str) -> float | None:
        if self.outcome is None:
            return None
        value = self.outcome.get("seconds", {}).get(step)
        return None if value is None else float(value)

    @property
    def peak_rss(self) -> int | None:
        if self.outcome is None:
            return None
        return int(self.outcome["peak_rss"]) + int(self.outcome.get("solver_peak_rss", 0))


def _peak_rss_so_far(pid: int) -> dict[str, int]:
    """Peak RSS (``VmHWM``) of a running process and of its largest child, bytes (Linux /proc).

    A run stopped at its time limit reports nothing itself; this is what it had used by then.
    """

    def high_water(process: int) -> int:
        try:
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return {
        "peak_rss": high_water(pid),
        "solver_peak_rss": max((high_water(int(c)) for c in children), default=0),
    }


def _run_child(arguments: list[str], timeout: float) -> tuple[dict[str, Any] | None, str]:
    """Run measure.py in its own process group; stop the group (and its solver) on timeout."""
    command = [sys.executable, str(HERE / "measure.py"), *arguments]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        peaks = _peak_rss_so_far(child.pid)
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"status": "timeout", "seconds": {}, **peaks}, "timeout"
    if child.returncode != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {child.returncode}"
        return None, f"failed: {last}"
    return json.loads(stdout.strip().splitlines()[-1]), ""


def measure_price_opt(
    case: BenchmarkCase, variant: str, solver: str, time_limit: float | None
) -> Measurement:
    rules = case.rules_with_budget if variant == "budget" else case.rules
    arguments = ["price-opt", str(case.products), str(rules), "--solver", solver]
    if time_limit is not None:
        arguments += ["--time-limit", str(time_limit)]
    outcome, problem = _run_child(arguments, (time_limit or 0) + BUILD_ALLOWANCE_SECONDS)
    if problem == "timeout":
        problem = f"no result in {(time_limit or 0) + BUILD_ALLOWANCE_SECONDS:g} s"
    if outcome is not None and outcome.get("status") == "error":
        return Measurement(case.count, variant, "price-opt", outcome, outcome["message"])
    return Measurement(case.count, variant, "price-opt", outcome, problem)


def measure_reference(
    case: BenchmarkCase, variant: str, time_limit: float, reference_max: int
) -> Measurement:
    if case.count > reference_max:
        return Measurement(case.count, variant, "reference", None, f"skipped (> {reference_max:,})")
    rules = case.rules_with_budget if variant == "budget" else case.rules
    arguments = ["reference", str(case.products), str(rules), "--time-limit", str(time_limit)]
    hard_limit = time_limit + BUILD_ALLOWANCE_SECONDS
    outcome, problem = _run_child(arguments, hard_limit)
    no_result = f"no result in {time_limit:g} s"
    if problem == "timeout":
        # CBC checks its time limit only between phases: on a large model it can overrun it.
        stopped = f"{no_result} (CBC overran it; run stopped after {hard_limit:g} s)"
        return Measurement(case.count, variant, "reference", outcome, stopped)
    if outcome is None:
        return Measurement(case.count, variant, "reference", None, problem)
    if outcome.get("objective_fen") is None:
        note = no_result if outcome["status"] == "no_solution" else outcome["status"]
        return Measurement(case.count, variant, "reference", outcome, note)
    return Measurement(case.count, variant, "reference", outcome)


# --- formatting --------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _memory(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / GIB:.2f} GiB" if value >= GIB else f"{value / MIB:.0f} MiB"


def _gap(value: float | None) -> str:
    return "—" if value is None else f"{value:.1e}" if value > 0 else "0"


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def _status(measurement: Measurement) -> str:
    if measurement.note:
        return measurement.note
    outcome = measurement.outcome or {}
    status = str(outcome.get("status", "?"))
    if measurement.engine == "price-opt":
        verified = "verified" if outcome.get("verified") else "NOT verified"
        return f"{status} ({outcome.get('method')}), {verified}"
    return status


COLUMNS = (
    "SKUs", "budget", "engine", "read", "candidates", "build", "solve", "verify",
    "end to end", "peak RSS", "gap", "objective (¥)", "status",
)


def measurement_row(m: Measurement) -> list[str]:
    memory = _memory(m.peak_rss)
    if m.outcome is not None and m.outcome.get("status") == "timeout":
        memory = f"≥ {memory}"  # what the run had used when it was stopped
    return [
        f"{m.size:,}",
        "yes" if m.variant == "budget" else "no",
        m.engine,
        _seconds(m.seconds("read")),
        _seconds(m.seconds("candidates")),
        _seconds(m.seconds("build")),
        _seconds(m.seconds("solve")),
        _seconds(m.seconds("verify")) if m.engine == "price-opt" else "—",
        _seconds(m.seconds("end_to_end")) if m.ok else "—",
        memory,
        _gap(m.outcome.get("gap")) if m.ok and m.outcome else "—",
        _yuan(m.outcome.get("objective_fen")) if m.outcome else "—",
        _status(m),
    ]


COMPARISON_COLUMNS = (
    "SKUs", "budget", "price-opt end to end", "reference end to end", "speed-up",
    "objective: price-opt − reference",
)


def comparison_row(ours: Measurement, reference: Measurement) -> list[str]:
    ours_seconds = ours.seconds("end_to_end") if ours.ok else None
    reference_seconds = reference.seconds("end_to_end") if reference.ok else None
    speed_up = difference = "—"
    if ours_seconds and reference_seconds:
        speed_up = f"{reference_seconds / ours_seconds:.0f}×"
    if ours.ok and reference.ok and ours.outcome and reference.outcome:
        delta = int(ours.outcome["objective_fen"]) - int(reference.outcome["objective_fen"])
        base = max(abs(int(reference.outcome["objective_fen"])), 1)
        difference = f"{_yuan(delta)} ({delta / base:+.1e})"
    elif not reference.ok:
        difference = reference.note or "—"
    return [
        f"{ours.size:,}",
        "yes" if ours.variant == "budget" else "no",
        _seconds(ours_seconds),
        _seconds(reference_seconds) if reference.ok else (reference.note or "—"),
        speed_up,
        difference,
    ]


def _rich_table(title: str, columns: tuple[str, ...], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in {"engine", "status"} else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _markdown_table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / GIB:.0f} GiB RAM"
    import pulp

    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; Python {platform.python_version()}, "
        f"PuLP {pulp.__version__} with its bundled CBC"
    )


def _revision() -> str:
    """The commit measured, and whether the working tree had changes (read-only git calls)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "models", "pricing"], cwd=HERE.parent,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown revision"
    changes = " with uncommitted changes to models/ or pricing/" if dirty else ""
    return f"commit {commit}{changes}"


def results_markdown(
    arguments: argparse.Namespace,
    measurements: list[Measurement],
    comparisons: list[list[str]],
    notes: list[str],
) -> str:
    sizes = ",".join(str(size) for size in arguments.sizes)
    command = (
        f"python benchmarks/run.py --sizes {sizes} --reference-max {arguments.reference_max}"
        f" --reference-time-limit {arguments.reference_time_limit:g} --solver {arguments.solver}"
        f" --variants {','.join(arguments.variants)}"
    )
    return "\n".join([
        "# Benchmark results (issue 4)",
        "",
        f"Measured {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} on {_machine()};"
        f" price-opt at {_revision()}.",
        "",
        f"Command: `{command}` (seed {arguments.seed}; 10 ladder levels, 8 coupon candidates,"
        " at most 3 tiers, buy-two-get-one allowed).",
        "",
        "Seconds are wall-clock. *read*: products CSV and rules TOML"
        " (`pricing.formats.products`, `.rules`);"
        " *candidates*: the candidate table and coupon ladders; *build*: the PuLP model"
        " (0 when the ladder decomposition solves without one); *solve*: everything from the"
        " stated model to the plan read back (for the MILP this includes PuLP writing the MPS"
        " file, and for price-opt the decomposition that warm-starts it); *verify*: the exact"
        " checker; *end to end*: read + plan. *peak RSS*: the measuring process's peak plus"
        " its solver subprocess's peak. *gap*: the proven relative gap.",
        "",
        _markdown_table(COLUMNS, [measurement_row(m) for m in measurements]),
        "",
        "## price-opt against the plain reference",
        "",
        _markdown_table(COMPARISON_COLUMNS, comparisons),
        "",
        *(f"- {note}" for note in notes),
        "",
    ])


# --- the run -----------------------------------------------------------------------------------


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be whole numbers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _variants(text: str) -> list[str]:
    variants = [part.strip() for part in text.split(",") if part.strip()]
    if not variants or any(v not in {"plain", "budget"} for v in variants):
        raise argparse.ArgumentTypeError("variants are plain and/or budget")
    return variants


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=list(DEFAULT_SIZES),
                        help="catalogue sizes, comma-separated (default 1000,10000,100000,300000)")
    parser.add_argument("--reference-max", type=int, default=100_000,
                        help="largest size the plain reference runs on (default 100000)")
    parser.add_argument("--reference-time-limit", type=float, default=600.0,
                        help="CBC time limit for the reference, seconds (default 600)")
    parser.add_argument("--solver", choices=["cbc", "highs"], default="cbc",
                        help="price-opt's MILP solver (default cbc)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="price-opt's solver time limit, seconds (default none)")
    parser.add_argument("--variants", type=_variants, default=["plain", "budget"],
                        help="rules without a budget (plain) and/or with one (budget)")
    parser.add_argument("--seed", type=int, default=None, help="catalogue seed")
    parser.add_argument("--data", type=Path, default=None,
                        help="keep the generated files in this folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"also write the results as markdown here (e.g. {RESULTS.name})")
    return parser.parse_args(argv)


def run(arguments: argparse.Namespace, data: Path) -> None:
    from synthetic import DEFAULT_SEED

    if arguments.seed is None:
        arguments.seed = DEFAULT_SEED
    measurements: list[Measurement] = []
    comparisons: list[list[str]] = []
    notes: list[str] = []
    for size in arguments.sizes:
        with console.status(f"{size:,} SKUs: generating the catalogue"):
            started = time.perf_counter()
            case = write_case(data / str(size), size, arguments.seed)
            generated = time.perf_counter() - started
        console.print(f"{size:,} SKUs: catalogue generated in {generated:.2f} s")
        for variant in arguments.variants:
            label = f"{size:,} SKUs, {'with' if variant == 'budget' else 'no'} budget"
            with console.status(f"{label}: price-opt"):
                ours = measure_price_opt(case, variant, arguments.solver, arguments.time_limit)
            console.print(f"{label}: price-opt {_status(ours)},"
                          f" {_seconds(ours.seconds('end_to_end'))} s")
            with console.status(f"{label}: reference (plain PuLP + CBC)"):
                reference = measure_reference(
                    case, variant, arguments.reference_time_limit, arguments.reference_max
                )
            console.print(f"{label}: reference {_status(reference)},"
                          f" {_seconds(reference.seconds('end_to_end'))} s")
            measurements += [ours, reference]
            comparisons.append(comparison_row(ours, reference))
            notes += _notes(ours, reference, case, variant)
    console.print(_rich_table("price-opt and the plain reference", COLUMNS,
                              [measurement_row(m) for m in measurements]))
    console.print(_rich_table("Speed-up and objective", COMPARISON_COLUMNS, comparisons))
    for note in notes:
        console.print(f"- {note}", highlight=False)
    if arguments.out is not None:
        write_text_atomic(
            arguments.out, results_markdown(arguments, measurements, comparisons, notes)
        )
        console.print(f"wrote {arguments.out}")


def _notes(
    ours: Measurement, reference: Measurement, case: BenchmarkCase, variant: str
) -> list[str]:
    """Model sizes and anything a reader of the table should know about this case."""
    label = f"{case.count:,} SKUs{' with budget' if variant == 'budget' else ''}"
    notes = []
    if ours.outcome is not None and ours.ok:
        o = ours.outcome
        kept = o["candidates_total"] - o["candidates_pruned"]
        line = (
            f"{label}: price-opt kept {kept:,} of {o['candidates_total']:,} product-rows"
            f" ({o['method']}: {o['variables']:,} variables, {o['constraints']:,} constraints),"
            f" tiers {', '.join(o['coupon_tiers']) or 'none'}"
        )
        if variant == "budget":
            line += f"; spend ¥{_yuan(o['spend_fen'])} of budget ¥{_yuan(o['budget_fen'])}"
        notes.append(line)
    if reference.outcome is not None and "variables" in reference.outcome:
        r = reference.outcome
        line = (
            f"{label}: reference {r['variables']:,} variables, {r['constraints']:,} constraints;"
            f" PuLP build {_seconds(reference.seconds('build'))} s, MPS hand-off"
            f" {_seconds(reference.seconds('handoff'))} s"
        )
        if r.get("coupon_tiers"):
            line += f", tiers {', '.join(r['coupon_tiers'])}"
        if r.get("safety_mismatches"):
            line += f"; its safety differs from the optimizer's on {r['safety_mismatches']:,} rows"
        notes.append(line)
    if ours.note and ours.engine == "price-opt":
        notes.append(f"{label}: price-opt {ours.note}")
    return notes


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    if arguments.data is not None:
        run(arguments, arguments.data)
        return
    with tempfile.TemporaryDirectory(prefix="price-opt-bench-") as folder:
        run(arguments, Path(folder))


if __name__ == "__main__":
    main()
