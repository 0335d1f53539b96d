"""Generate tests/verification/data/haar_reference.npz from the pre-issue-13 make_dataset
(commit 01c44c3)."""

import subprocess
import types

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)
src = subprocess.run(
    ["git", "show", "01c44c3c49bbb749609a11bf035b094f72abb7fc:verification/datasets.py"],
    capture_output=True,
    text=True,
    check=True,
).stdout
mod = types.ModuleType("old_datasets")
exec(compile(src, "old_datasets", "exec"), mod.__dict__)
from verification.contract import Context  # noqa: E402  (after the old module is built)

base = {
    "state_dim": 6,
    "radius": 1.0,
    "d": 8,
    "n": 24,
    "windows": "independent",
    "burn_in": 0,
    "normalize": True,
    "sigma": 1.0,
}
cases = {
    "default": (base, Context(config={"data": base}, seed=0).key("data"), 24, 4, 0.1),
    "seed7": (base, Context(config={"data": base}, seed=7).key("data"), 10, 0, 0.0),
    "sliding": (
        {**base, "windows": "sliding", "state_dim": 3, "d": 4, "burn_in": 5},
        jax.random.key(3),
        12,
        5,
        0.0,
    ),
    "raw": ({**base, "normalize": False, "radius": 0.9}, jax.random.key(11), 6, 2, 0.3),
}
out = {}
for name, (c, key, n, nt, noise) in cases.items():
    ds = mod.make_dataset(c, key, n=n, n_test=nt, noise_std=noise)
    for f in ("X", "y", "X_test", "y_test", "series"):
        out[f"{name}/{f}"] = np.asarray(getattr(ds, f))
np.savez("tests/verification/data/haar_reference.npz", **out)
print({k: v.shape for k, v in out.items()})
