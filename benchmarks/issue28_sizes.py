"""Error rates of the seed-level rules under the noise the runs produce (issue 28), at many
replicates: the bigger version of tests/verification/rules/test_issue28.py.

    python benchmarks/issue28_sizes.py                 # 20 000 replicates per cell (about 1 min)
    python benchmarks/issue28_sizes.py --replicates 2000

Prints one line per cell: the law, the rate measured, the target, and its Monte-Carlo s.e.

* C7 margin rule (12 seeds, 5 variants, every variant at the margin): per-variant and
  family-wise false "mitigates", family-wise false "does not mitigate", log-normal skew ≈ ±2,
  for the median (default) and the mean reading;
* C5 noise exponent (10 seeds, 4 levels) at b = 0.9, level-dependent skewed noise (sd 0.6 at the
  smallest σ², 0.15 elsewhere), either way;
* C2 fraction rule (8 members × 160 networks): whole-group flips at mean 0.15 (power), δ (size),
  0.02 (power); Beta κ = 40 at mean 0.05 (power); and the order-free check on shuffled copies.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from verification.calibration._robustness import skewed
from verification.rules._fractions import fraction_decision, fraction_statuses
from verification.rules._margin import margin_effect_statuses
from verification.rules._ood import noise_exponent_statuses


def line(name: str, rate: float, target: str, R: int) -> None:
    se = math.sqrt(max(rate * (1 - rate), 1e-12) / R)
    print(f"{name:<72} {rate:7.4f}  (target {target}; s.e. {se:.4f}, R = {R})")


def margin(R: int) -> None:
    thr = np.log(0.9)
    for est in ("median", "mean"):
        for direction, word in ((1, "right"), (-1, "left")):
            rng = np.random.default_rng(1000 + direction)
            z = skewed(rng, (R, 5, 12), direction=direction, centre=est)
            st, conj, _, _ = margin_effect_statuses(thr + 0.3 * z, estimand=est)
            tag = f"C7 {est}, {word} skew at the margin"
            line(
                f"{tag}: false 'mitigates' per variant", float((st == "HOLDS").mean()), "≤ 0.03", R
            )
            some = float(np.any(st == "HOLDS", axis=-1).mean())
            line(f"{tag}: some variant 'mitigates'", some, "≤ 0.025", R)
            line(f"{tag}: 'does not mitigate'", float((conj == "VIOLATED").mean()), "≤ 0.03", R)


def noise(R: int) -> None:
    x = 2e-4 + np.array([1e-4, 1e-2, 1e-1, 1.0]) ** 2
    sd = np.array([0.6, 0.15, 0.15, 0.15])[:, None]
    for centre in ("median", "mean"):
        for direction, word in ((1, "right"), (-1, "left")):
            rng = np.random.default_rng(2000 + direction)
            eps = skewed(rng, (R, 4, 10), direction=direction, centre=centre)
            risk = x[:, None] ** 0.9 * np.exp(rng.normal(0, 1, (R, 1, 10)) + sd * eps)
            st, *_ = noise_exponent_statuses(x, risk, vanishes=True)
            tag = f"C5 median rule, {word} skew centred at its {centre}, b = 0.9"
            line(f"{tag}: false 'vanishes'", float((st == "HOLDS").mean()), "≤ 0.04", R)
            line(f"{tag}: false 'does not'", float((st == "VIOLATED").mean()), "≤ 0.04", R)


def fractions(R: int) -> None:
    K, S = 8, 160
    rng = np.random.default_rng(3000)

    def flips(n, mean):
        on = rng.random((n, K, S)) < mean / 0.95
        return np.where(on, rng.uniform(0.9, 1.0, (n, K, S)), 0.0)

    def concentrated(n, mean):
        return rng.binomial(8, rng.beta(mean * 40, (1 - mean) * 40, (n, K, S))) / 8

    R = min(R, 5000)
    for name, gen, mean, status, target in (
        ("C2 whole-group flips, mean 0.15: VIOLATED", flips, 0.15, "VIOLATED", "≥ 0.75"),
        ("C2 whole-group flips, mean δ: HOLDS", flips, 0.1, "HOLDS", "≤ 0.03"),
        ("C2 whole-group flips, mean δ: VIOLATED", flips, 0.1, "VIOLATED", "≤ 0.025"),
        ("C2 whole-group flips, mean 0.02: HOLDS", flips, 0.02, "HOLDS", "≥ 0.8"),
        ("C2 Beta κ = 40, mean 0.05: HOLDS", concentrated, 0.05, "HOLDS", "≥ 0.8"),
        ("C2 Beta κ = 40, mean δ: HOLDS", concentrated, 0.1, "HOLDS", "≤ 0.025"),
    ):
        st = np.concatenate(
            [fraction_statuses(gen(min(200, R - i), mean), delta=0.1) for i in range(0, R, 200)]
        )
        line(name, float((st == status).mean()), target, R)
    same = 0
    for _ in range(200):
        f = list(flips(1, 0.1)[0])
        a = fraction_decision(f, delta=0.1).status
        same += a == fraction_decision([rng.permutation(x) for x in f], delta=0.1).status
    line("C2 same verdict for a shuffled copy", same / 200, "= 1", 200)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=20_000)
    R = ap.parse_args().replicates
    t0 = time.perf_counter()
    margin(R)
    noise(R)
    fractions(R)
    print(f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
