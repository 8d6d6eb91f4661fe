"""Fixtures for the NLU components. These tests run in .venv-rasa (they import Rasa and spaCy).

The gazetteer they use is exported from a knowledge store built from the seed bulletins by the
`hotline` command of .venv (HOTLINE_GAZETTEER, set by `make test`), so the components are tested on
the names the trained model really gets.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def gazetteer_path() -> Path:
    path = Path(os.environ.get("HOTLINE_GAZETTEER", ROOT / "var" / "gazetteer.json"))
    if not path.is_file():
        pytest.fail(f"{path}: no gazetteer; run `make gazetteer` (make test does)")
    return path


@pytest.fixture(scope="session")
def gazetteer(gazetteer_path) -> dict:
    return json.loads(gazetteer_path.read_text(encoding="utf-8"))
