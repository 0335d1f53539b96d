r"""Memory estimates, their one home: what a run holds at its peak, in bytes (float64), with the
reason (the largest part), and this machine's physical memory. Claims build their ``memory`` from
these (:class:`verification.contract.Claim`); :func:`verification.pipeline.check_memory` refuses a
configuration whose estimate plus :data:`BASELINE_BYTES` exceeds :func:`physical_memory`. Each
estimate is an upper bound within 3x of the measured growth where the sizes dominate
(tests/verification/test_memory.py). A leaf: imports nothing from ``verification``.
"""

from __future__ import annotations

import os

__all__ = [
    "memory_bytes",
    "memory_sum",
    "sweep_bytes",
    "train_bytes",
    "memory_estimate",
    "physical_memory",
    "BASELINE_BYTES",
    "SWEEP_BYTES_PER_NEURON",
    "TRAIN_NUMBERS_PER_NEURON",
]


def memory_bytes(
    *, d: int, n: int, widths=(), tokens: int = 0, token_width: int = 1, windows: int = 0
) -> tuple[int, str]:
    r"""A lower bound in bytes (float64) and its reason: the largest of the Jacobian
    :math:`J_{ir} = \partial f(x_i)/\partial w_r` of the widest network (:math:`n\,m_{\max}`
    numbers), the attention matrices (``tokens² × token_width``) and the data windows
    (``(n + windows) × d``)."""
    terms = {
        "the Jacobian of the widest network (n × m)": int(n)
        * max((int(w) for w in widths), default=0),
        "the attention matrices (max_tokens² × max_width)": int(tokens) ** 2 * int(token_width),
        "the data windows ((n + pool + test_windows) × d)": (int(n) + int(windows)) * int(d),
    }
    why = max(terms, key=terms.get)
    return 8 * terms[why], why


SWEEP_BYTES_PER_NEURON = 24
"""Float64 numbers per neuron of a sweep block besides its Jacobian row of n: w(0), a, w(t), the
gradient, a/sqrt(m), the divergence masks, ``|w - w(0)|``, the chunk layout on the host (draws at
the largest width and their per-width copies) and the device copies of each, with a margin
(measured: 13-20 per neuron with the Jacobian, tests/verification/test_memory.py)."""

TRAIN_NUMBERS_PER_NEURON = 16
"""Float64 numbers per neuron of one :func:`ntk_attention.train` run besides its Jacobian (n) and
mean position masses (d): w, w(0), the optimiser state, the update, masses, the recorded copies."""


def memory_sum(*terms: tuple[int, str]) -> tuple[int, str]:
    """The sum of several ``(bytes, why)`` estimates; the reason is the largest part's."""
    terms = list(terms)
    total = sum(b for b, _ in terms)
    return total, max(terms, key=lambda t: t[0])[1] if terms else "nothing size-dependent"


def sweep_bytes(
    *, n: int, widths, seeds: int, steps: int, record_every: int, seeds_per_block: int = 1
) -> tuple[int, str]:
    r"""Peak bytes (float64) of a width × seed sweep (:func:`ntk_attention.sweep.run_block` per
    block): per block of :math:`M = \text{seeds\_per\_block}\sum_k m_k` neurons, the Jacobian kept
    for the gradient (:math:`nM`) and ``SWEEP_BYTES_PER_NEURON`` M other numbers; the NTK matrices
    :math:`n^2` (H(0), H(t) and H(0) again per run of the block, H(0) of every run of the sweep, H*
    and its quadrature); the records of every run (ten fields at :math:`T/k + 1` steps)."""
    W, S = len(widths), int(seeds)
    M = int(seeds_per_block) * sum(int(w) for w in widths)
    R = int(steps) // int(record_every) + 1
    runs = W * int(seeds_per_block) + 1
    return memory_sum(
        (
            8 * M * (int(n) + SWEEP_BYTES_PER_NEURON),
            "sweep block (Jacobian n × Σ widths and per-neuron state)",
        ),
        (8 * int(n) ** 2 * (3 * runs + W * S + 8), "NTK matrices (n × n per run, H*)"),
        (8 * 10 * W * S * R, "sweep records"),
    )


def train_bytes(
    *,
    n: int,
    d: int,
    widths,
    seeds: int,
    steps: int,
    record_every: int,
    held: bool = True,
    neurons: bool = True,
) -> tuple[int, str]:
    r"""Peak bytes (float64) of :func:`ntk_attention.train` runs, one at a time: one run's Jacobian
    :math:`n m`, position masses :math:`m d` and ``TRAIN_NUMBERS_PER_NEURON`` m numbers at the
    largest width; the per-neuron records (``neurons``: weights, last-token and position masses,
    :math:`R\,m\,(d + 2)` at :math:`R = T/k + 1`) of every run when ``held`` (a claim keeping all
    its runs), else of one."""
    m_max = max(int(w) for w in widths)
    R = int(steps) // int(record_every) + 1
    per_run = R * (int(d) + 2) if neurons else 0
    kept = int(seeds) * sum(int(w) for w in widths) if held else m_max
    return memory_sum(
        (
            8 * m_max * (int(n) + int(d) + TRAIN_NUMBERS_PER_NEURON),
            "training state of the widest run (Jacobian n × m)",
        ),
        (8 * per_run * kept, "per-neuron training records"),
    )


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``); 0 when the platform does not say."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


BASELINE_BYTES = 1 << 30
"""Memory a run holds whatever its sizes: the interpreter, JAX, numpy, scipy, matplotlib and the
compiled programs. Measured (peak RSS of a fresh process running ``ntk-verify run`` at tiny sizes,
CPU, jax 0.10): 0.44 GiB for C4, 0.49 GiB for C3, 0.50 GiB for C2; a tiny C5, C6 or C7 run after
another claim adds 40-75 MiB of its own programs (tests/verification/test_memory.py prints these);
rounded up to 1 GiB for other backends and allocator slack. A claim's ``memory`` estimates what
comes on top."""


def memory_estimate(section: dict, data: dict) -> tuple[int, str]:
    r"""Estimated peak bytes (float64) for a section that is not a claim's (``[sweep]``), and why:
    :func:`sweep_bytes` of its ``widths``, ``seeds``, ``steps``,
    ``record_every``, ``seeds_per_block`` at ``n`` (or ``max(sizes)``, else ``[data] n``), and the
    data windows. A claim's section uses the claim's own ``memory``."""
    widths = list(section.get("widths") or ([section["width"]] if "width" in section else []))
    sizes = section.get("sizes")
    n = max(sizes) if isinstance(sizes, list) and sizes else int(section.get("n", data["n"]))
    windows = memory_bytes(
        d=int(data["d"]),
        n=n,
        windows=int(section.get("pool", 0)) + int(section.get("test_windows", 0)),
    )
    if not widths:
        return windows
    steps = int(section.get("steps", 1))
    return memory_sum(
        sweep_bytes(
            n=n,
            widths=widths,
            seeds=int(section.get("seeds", 1)),
            steps=steps,
            record_every=int(section.get("record_every", steps) or steps),
            seeds_per_block=int(section.get("seeds_per_block", 1)),
        ),
        windows,
    )
