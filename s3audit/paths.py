"""Where things are: the project checkout, the bundled samples, the package data."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_DATA_DIR = PACKAGE_DIR / "data"
PROJECT_ROOT = PACKAGE_DIR.parent
SAMPLES_DIR = PROJECT_ROOT / "data" / "samples"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
