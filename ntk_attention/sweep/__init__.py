r"""Width × seed sweeps of :func:`ntk_attention.train` in **one** compiled, sharded program.

Each run (width :math:`m`, seed :math:`s`) is plain gradient descent on
:math:`L = \frac12\sum_i (f(x_i) - y_i)^2` exactly as :func:`ntk_attention.train` does it, and
records at :math:`t = 0, k, 2k, \dots, T`:

* ``loss`` :math:`L(w(t))`;
* ``sign_agree_plus`` :math:`\#\{r: a_r = +1, w_r(t) > 0\}` and ``sign_agree_minus``
  :math:`\#\{r: a_r = -1, w_r(t) < 0\}` (out of ``n_plus``, ``n_minus``);
* ``last_token_mass`` :math:`\frac1{mn}\sum_r\sum_i s_{r,d}(x_i)`;
* ``ntk_change`` :math:`\|H(t) - H(0)\|_2` and ``ntk_min_eigenvalue`` :math:`\lambda_{\min}(H(t))`;
* ``max_weight_change`` :math:`\max_r |w_r(t) - w_r(0)|`;

and once per run ``ntk_initial`` :math:`H(0)` and ``ntk_infinite_distance``
:math:`\|H(0) - H^*\|_2`, with :math:`H^*` from :func:`ntk_attention.infinite_ntk` (float64 numpy,
width independent: computed once per sweep, outside the compiled program).

Design: neuron segments
-----------------------
The neurons of every run of a *block* (``seeds_per_block`` seeds × every width) are concatenated
into one vector of :math:`M = \text{seeds\_per\_block}\cdot\sum_m m` neurons, cut into chunks of
``c`` neurons, ``c`` a divisor of every width, so that **no chunk straddles two runs**; chunk
:math:`k` carries its run id :math:`q(k)` and its scale :math:`1/\sqrt{m_{q(k)}}`. One pass of
exponentials over the chunks (the core kernel ``model._chunk_moments``, ``G`` chunks at a time
under :func:`jax.lax.scan`) gives every run at once:

.. math::

    f_q(x_i) = \sum_{k: q(k) = q}\ \sum_{r \in k} \frac{a_r}{\sqrt{m_q}} \mu_r(x_i)
    \quad\text{(a segment sum)}, \qquad
    J_{ir} = \frac{a_r}{\sqrt{m_q}} x_{i,d} V_r(x_i),

    w_r \leftarrow w_r - \eta \sum_i J_{ir}\,(f_{q}(x_i) - y_i), \qquad
    H_q(t) = \sum_{k: q(k) = q} J_k J_k^\top .

So the work is exactly :math:`\sum_m m` neurons per seed (no padding to the widest width, unlike
masks), and the whole sweep is **one** XLA program whose shapes do not depend on which seeds a
block holds (every block reuses it: one compilation per sweep, not per width).

Memory: ``O(n·c·G·d)`` for the exponentials of one scan step, ``O(M)`` for the weights, the
``(R, runs, n, n)`` recorded NTKs :math:`H(t)` (returned to the host for the eigenvalues) and the
records (:func:`device_bytes` estimates one device's share); no ``(n, m, d)`` tensor is ever formed.
By default one step's Jacobian, ``O(n·M)``, is kept between the forward pass and the update (as
:func:`train` keeps its ``(n, m)`` Jacobian); ``recompute_jacobian=True`` recomputes it chunk by
chunk in the update instead (twice the exponentials, memory independent of ``n·M``).

Nested prefixes (docs/theory.md, "Computation"): a width-``m`` run of seed ``s`` starts from the
first ``m`` neurons of ``init_params(jax.random.key(s), max(widths))``, so widths share their
randomness and their comparison is less noisy; each run alone has exactly the law of
:func:`init_params` at width ``m``.

Devices: two layouts on a :func:`jax.make_mesh` mesh (axis ``"devices"``) of the given devices,
run with :func:`jax.shard_map`, chosen by :func:`plan_sweep` from a memory estimate
(:func:`device_bytes`):

* ``"runs"`` (whenever the largest device share fits): whole runs are placed on devices (largest
  width first, on the least loaded device), each device scans only its own runs' chunks and
  **no collective** is ever executed; run ids are device-local slots. This is the layout on one
  device.
* ``"neurons"`` (only when one run does not fit on one device): every run's chunks are spread over
  the devices and the per-run sums (:math:`f`, :math:`H`, counts, masses) are ``psum``-ed
  (``pmax`` for the weight change) at every step.

Either way the chunk count per device is padded to a multiple of ``G`` with dummy chunks
(``a = 0``) in a dump segment that is dropped, and each run's chunks are summed in the same order,
so the layouts and device counts agree to rounding (tested to 1e-12 in float64).

Eigenvalues are computed on the host (float64 numpy) from the recorded :math:`H(t)`, never inside
the compiled program: jaxlib 0.10's CPU LAPACK kernels (``lapack_dsyevd_ffi``) split a batch over
XLA's intra-op thread pool and block a pool thread until the pieces finish; with several CPU
devices running such a kernel at once every pool thread can be waiting and the program never
finishes (see docs/distributed.md). Across hosts the independent axis is the seed block (see
``verification.sweep_cmd``): no communication between hosts.

>>> import jax, jax.numpy as jnp
>>> X = jax.random.normal(jax.random.key(0), (6, 3)); y = X[:, -1]
>>> res = sweep(X, y, widths=(8, 16), seeds=(0, 1), steps=4, learning_rate=0.1, record_every=2)
>>> res.loss.shape  # width x seed x recorded step
(2, 2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jaxtyping import Array, Float

from ntk_attention.sweep.plan import (
    AXIS,
    LAYOUTS,
    SweepPlan,
    _check_seeds,
    device_bytes,
    plan_sweep,
)
from ntk_attention.sweep.result import (
    ARRAYS,
    RECORD_FIELDS,
    SavedSweep,
    SweepResult,
    concatenate,
    header_attrs,
    load,
    ntk_infinite_tolerance,
)
from ntk_attention.sweep.run import run_block

__all__ = [
    "SweepPlan",
    "SweepResult",
    "plan_sweep",
    "run_block",
    "concatenate",
    "sweep",
    "device_bytes",
    "RECORD_FIELDS",
    "LAYOUTS",
    "ARRAYS",
    "load",
    "ntk_infinite_tolerance",
    "AXIS",
    "SavedSweep",
    "header_attrs",
]


def sweep(
    X: Float[Array, "n d"],
    y: Float[Array, " n"],
    *,
    seeds: Sequence[int],
    **options: Any,
) -> SweepResult:
    r"""Train every width in ``widths`` from every seed in ``seeds``; records indexed (W, S, R).

    Run :math:`(m, s)` is gradient descent from the nested prefix
    :math:`w^{(m,s)}(0) = w^{(s)}_{1:m}(0)`:

    .. math::

        w^{(m,s)}(t+1) = w^{(m,s)}(t) - \eta\, J^{(m,s)}(t)^\top \big(f^{(m,s)}(t) - y\big),
        \qquad H^{(m,s)}(t) = J^{(m,s)}(t) J^{(m,s)}(t)^\top ,

    recorded at :math:`t = 0, k, \dots, T` (see :class:`SweepResult`). Equivalent, run by run, to
    ``train(Params(w[:m], a[:m]), X, y, steps=steps, learning_rate=learning_rate,
    record_every=record_every)`` with ``w, a = init_params(jax.random.key(seed), max(widths),
    sigma=sigma, output_signs=output_signs)``, but compiled once for all widths and seeds (see the
    module docstring). Every keyword but ``seeds`` is :func:`plan_sweep`'s (``widths``, ``steps``,
    ``learning_rate``, ``record_every``, ``sigma``, ``output_signs``, ``seeds_per_block``,
    ``layout`` …), passed on unchanged; ``len(seeds)`` must be a multiple of ``seeds_per_block``.
    """
    seeds = _check_seeds(seeds)
    plan = plan_sweep(X, y, **options)
    if len(seeds) % plan.seeds_per_block:
        raise ValueError(
            f"seeds: expected a multiple of seeds_per_block = {plan.seeds_per_block} seeds, "
            f"got {len(seeds)}"
        )
    b = plan.seeds_per_block
    return concatenate([run_block(plan, seeds[i : i + b]) for i in range(0, len(seeds), b)])
