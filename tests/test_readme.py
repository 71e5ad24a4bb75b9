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
