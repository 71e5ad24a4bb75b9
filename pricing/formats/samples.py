"""The bundled sample store (a Tmall die-cast model-car store): where its files are installed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pricing.formats.tables import fail

SAMPLES_PACKAGE = "price_opt_samples"
SAMPLE_PRODUCTS = "products.csv"
SAMPLE_RULES = "rules.toml"


def _sample(name: str) -> Path:
    resource = resources.files(SAMPLES_PACKAGE).joinpath(name)
    path = Path(str(resource))
    if not path.is_file():
        raise fail(name, "the bundled sample file is missing; reinstall price-opt")
    return path


def sample_products_path() -> Path:
    """The bundled sample catalogue (a Tmall die-cast model-car store), after any install."""
    return _sample(SAMPLE_PRODUCTS)


def sample_rules_path() -> Path:
    """The bundled sample rules (Tmall Double 11, every ¥300 save ¥50)."""
    return _sample(SAMPLE_RULES)
