"""Time ``export`` and ``report`` on seeded synthetic catalogues (benchmarks/synthetic.py).

For each size: plan the catalogue (not timed here: see benchmarks/run.py), then run the library
function behind ``price-opt export`` (tmall upload sheet + review, .xlsx) and ``price-opt
report`` in this process, and print CPU seconds (the machine is shared; wall time is printed
too), peak memory and the sizes of the files written. Figures, not assertions.

With ``--commands`` it then runs ``price-opt export`` and ``price-opt report`` as a user does,
each in a fresh process (imports included), and prints their CPU seconds (user + system of the
child) and wall seconds. As in an installed package, the modules' bytecode is cached: the
commands run without ``PYTHONDONTWRITEBYTECODE``, after one untimed import of their modules.

    .venv/bin/python benchmarks/export_report.py --sizes 1000,10000
    .venv/bin/python benchmarks/export_report.py --sizes 10000 --commands
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from synthetic import write_case

from pricing.commands import run_export, run_plan, run_report


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return time.process_time() - cpu, time.perf_counter() - wall


_COMMAND_MODULES = ("cli", "pricing.formats.plan_context", "pricing.formats.plans",
                    "pricing.outputs.export", "pricing.outputs.report", "pricing.outputs.upload")


def _without_bytecode_switch() -> dict[str, str]:
    return {name: value for name, value in os.environ.items()
            if name != "PYTHONDONTWRITEBYTECODE"}


def _cache_bytecode() -> None:
    """Import the commands' modules once, writing their bytecode (as an installed package
    has it), so the timed runs do not compile them."""
    subprocess.run([sys.executable, "-c", "import " + ", ".join(_COMMAND_MODULES)],
                   check=True, env=_without_bytecode_switch())


def _command(arguments: list[str]) -> tuple[float, float]:
    """CPU (user + system) and wall seconds of one ``price-opt`` run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("price-opt")), *arguments],
                   check=True, capture_output=True, env=_without_bytecode_switch())
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--commands", action="store_true",
                        help="also time price-opt export / report as commands (fresh processes)")
    args = parser.parse_args()
    commands: list[str] = []
    print("| SKUs | export CPU s | export wall s | upload + review size | report CPU s "
          "| report wall s | report size | peak memory | load average |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in (int(part) for part in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            case = write_case(root, size)
            plan = root / "plan.json"
            run_plan(case.products, case.rules, plan)
            sheet = root / "报名表.xlsx"
            export_cpu, export_wall = _timed(
                lambda plan=plan, sheet=sheet: run_export(plan, None, None, sheet, "zh"))
            report = root / "report.html"
            report_cpu, report_wall = _timed(
                lambda plan=plan, report=report: run_report(plan, None, None, report, "zh"))
            written = sheet.stat().st_size + sheet.with_name("报名表.review.xlsx").stat().st_size
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            html = report.stat().st_size / 2**20
            print(f"| {size:,} | {export_cpu:.2f} | {export_wall:.2f} | {written / 2**20:.1f} MiB "
                  f"| {report_cpu:.2f} | {report_wall:.2f} | {html:.2f} MiB | {peak:.0f} MiB "
                  f"| {os.getloadavg()[0]:.1f} |",
                  flush=True)
            if args.commands:
                _cache_bytecode()
                export = _command(["export", str(plan), "--out", str(root / "cli.xlsx"),
                                   "--stock-factor", "1", "--force"])
                report = _command(["report", str(plan), "--out", str(root / "cli.html"),
                                   "--force"])
                commands.append(
                    f"| {size:,} | {export[0]:.2f} | {export[1]:.2f} | {report[0]:.2f} "
                    f"| {report[1]:.2f} | {os.getloadavg()[0]:.1f} |")
    if commands:
        print("\nAs commands, each in a fresh process (imports included):\n")
        print("| SKUs | `price-opt export` CPU s | wall s | `price-opt report` CPU s | wall s "
              "| load average |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(commands))


if __name__ == "__main__":
    main()
