"""The README's set-up commands are the ones CI runs, word for word."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _first_sh_blocks(count: int) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S)[:count]]


def test_ci_runs_the_readmes_two_set_up_commands_verbatim() -> None:
    set_up, tests = _first_sh_blocks(2)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "price-opt plan" in set_up and "pip install" in set_up
    assert set_up in ci.splitlines()
    assert tests.startswith(".venv/bin/pytest")
    assert any(line.strip().startswith(tests) for line in ci.splitlines())


def test_ci_runs_the_slow_tests_and_refuses_an_empty_run() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if not line.lstrip().startswith("#")]
    assert ".venv/bin/pytest -m slow" in commands
    assert "set -euo pipefail" in commands
    assert not any("-ne 5" in line or "|| status" in line for line in commands)


def test_hypothesis_is_a_test_dependency_only() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dependencies = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "hypothesis" not in dependencies
    imports = re.compile(r"^\s*(?:from|import)\s+hypothesis\b", re.M)
    sources = [ROOT / "cli.py", *(ROOT / "pricing").rglob("*.py"), *(ROOT / "models").rglob("*.py")]
    for path in sources:
        assert not imports.search(path.read_text(encoding="utf-8")), path
