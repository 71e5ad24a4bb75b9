"""Shared test set-up: the CLI speaks English in tests unless a test asks for Chinese."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Commands default to the user's language (zh when unsure); tests read English output
    unless they pass ``--lang zh`` or set ``PRICE_OPT_LANG`` themselves."""
    os.environ["PRICE_OPT_LANG"] = "en"
