"""Progress bars: the library reports counted steps; the CLI draws them only on a terminal."""

from __future__ import annotations

import io
from pathlib import Path

from plan_examples import RULES, build_plan, catalogue
from rich.console import Console

from pricing.formats.plan_context import PlanContext
from pricing.outputs.export import ExportOptions, export_plan
from pricing.outputs.i18n import step_text
from pricing.outputs.render import working
from pricing.outputs.report import write_report
from pricing.progress import SILENT


class Recorder:
    """A progress that remembers each step, its total and how far it got."""

    def __init__(self) -> None:
        self.steps: list[list[object]] = []

    def __call__(self, description: str, total: int | None = None) -> None:
        self.steps.append([description, total, 0])

    def advance(self, done: int = 1) -> None:
        self.steps[-1][2] += done  # type: ignore[operator]


def _context() -> PlanContext:
    products = catalogue()
    plan, _ = build_plan(products, RULES, None)
    return PlanContext(plan=plan, products=products, rules=RULES)


def test_export_reports_every_product_checked(tmp_path: Path) -> None:
    recorder = Recorder()
    context = _context()
    export_plan(context, tmp_path / "sheet.xlsx", ExportOptions(), progress=recorder)
    steps = {description: (total, done) for description, total, done in recorder.steps}
    count = len(context.products)
    assert steps["Checking every cart"] == (count, count)
    # the lowest paid prices come from that one check: no further pass over the products
    assert "Finding the lowest paid prices" not in steps
    assert "Writing the review sheet" in steps and "Writing the upload sheet" in steps


def test_report_reports_its_checks_and_its_drawing(tmp_path: Path) -> None:
    recorder = Recorder()
    context = _context()
    write_report(context, tmp_path / "report.html", progress=recorder)
    steps = {description: (total, done) for description, total, done in recorder.steps}
    count = len(context.products)
    assert steps["Checking every cart"] == (count, count)
    assert steps["The 50%-off stress test"] == (count, count)
    total, done = steps["Drawing the report"]
    assert total == done


def test_no_bar_is_drawn_when_the_output_is_not_a_terminal() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False)
    with working(console, "Planning…", "en") as progress:
        assert progress is SILENT
        progress("Checking every cart", total=10)
        progress.advance(10)
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_bar_with_the_step_in_chinese() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    with working(console, "正在制定方案…", "zh") as progress:
        assert progress is not SILENT
        progress("Checking every cart", total=4)
        progress.advance(2)
        progress("Building the candidate table (60 products)")


def test_step_descriptions_are_translated() -> None:
    assert step_text("Checking every cart", "zh") == "正在校验每个购物车"
    assert step_text("Building the MILP (12 products with a choice)", "zh") == (
        "正在建立 MILP 模型（12 个商品有选择）")
    assert step_text("Solving with CBC", "zh") == "正在用 CBC 求解"
    assert step_text("Checking every cart", "en") == "Checking every cart"


def test_the_plans_verification_counts_every_product() -> None:
    """GIVEN a progress that draws bars WHEN a plan is made THEN its verification is a counted
    step over every product, done to the end (a plain callable still gets the step's name)."""
    from pricing.optimize.planner import make_plan

    recorder = Recorder()
    products = catalogue()
    make_plan(products, RULES, progress=recorder)
    steps = {description: (total, done) for description, total, done in recorder.steps}
    count = len(products)
    assert steps["Verifying the plan against every basket"] == (count, count)
    named: list[str] = []
    make_plan(products, RULES, progress=named.append)
    assert "Verifying the plan against every basket" in named
