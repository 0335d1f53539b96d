"""Test-suite settings: float64 available everywhere (tests pick float32 explicitly when they need
it)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
# no persistent compilation cache in the suite (tests/verification/test_compilation_cache.py turns
# it on in a folder of its own): xdist workers never share compiled programs on disk
os.environ.setdefault("NTK_VERIFY_CACHE", "off")

import jax  # noqa: E402
from hypothesis import settings  # noqa: E402

jax.config.update("jax_enable_x64", True)

# "dev" (default): random draws, so that running the suite again explores new inputs; "ci": the same
# draws on every run (derandomize), chosen when the environment sets CI or HYPOTHESIS_PROFILE=ci
# (.ci/run does), so that a contributor's CI does not fail on inputs their change never touched.
settings.register_profile("dev", deadline=None, max_examples=20, print_blob=True)
settings.register_profile("ci", deadline=None, max_examples=20, derandomize=True, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
