"""Test-suite settings: float64 available everywhere (tests pick float32 explicitly when they need it)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
from hypothesis import settings  # noqa: E402

jax.config.update("jax_enable_x64", True)

settings.register_profile("ci", deadline=None, max_examples=20, derandomize=True, print_blob=True)
settings.load_profile("ci")
