"""The sweep library's former home, kept so that ``from verification import sweep_cmd`` keeps working:
everything lives in :mod:`verification.sweeps` (one module per concern) and the command in
:mod:`verification.commands.sweep`."""

from verification.sweeps import (
    BLOCK_TIMEOUT, FORMAT, SECTIONS, SWEEP_FIELDS, TIMEOUT_EXIT, SweepRun, block_seeds, config_differences, fingerprint,
    lambda_min_text, learning_rate, load_merged, merge, render_sweep, resolve_config, run_sweep, stability_warning,
)

__all__ = [
    "SWEEP_FIELDS", "FORMAT", "SECTIONS", "SweepRun", "resolve_config", "learning_rate", "fingerprint",
    "config_differences", "stability_warning", "block_seeds", "run_sweep", "merge", "load_merged", "render_sweep",
    "lambda_min_text", "BLOCK_TIMEOUT", "TIMEOUT_EXIT",
]
