"""Make hack/ importable: it is deliberately a plain folder (scripts), not a package."""

import sys
from pathlib import Path

HACK_DIR = str(Path(__file__).resolve().parents[2] / "hack")
if HACK_DIR not in sys.path:
    sys.path.insert(0, HACK_DIR)
