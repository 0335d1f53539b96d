r"""Theory calculator (docs/theory.md, "Theory calculator"): the quantities of Theorem 5.2 for a
given data set and (η, δ, ε, σ).

Unknown constants
    The paper's :math:`\Omega(\cdot)`/:math:`O(\cdot)` hide constants; each appears here as a
    parameter ``c_*`` (default 1) and is printed next to the figure it scales:
    :math:`T_{req} = c_T (\eta\lambda)^{-1}\log(nB^2/\varepsilon)`,
    :math:`t_{align} = c_A\, m/(\eta\lambda v_{\min})`, and, since the polynomials in the width and
    step-size conditions are not given, the *degree-one* readings
    :math:`m_{thm} = c_m \lambda^{-1} e^{B^2} e^{D} n d` and
    :math:`\eta_{thm} = c_\eta \lambda\delta / (e^{B^2} e^{D} n d)` (labelled as such: the true
    polynomials can only be larger powers).

Explicit concentration (no unknown constant)
    :math:`H(0) = \frac1m\sum_{r=1}^m u_r u_r^\top` with
    :math:`u_r = (x_{i,d} V(x_i; w_r))_{i \le n}` i.i.d. and :math:`\mathbb E\, u_r u_r^\top = H^*`.
    Popoviciu's inequality :math:`0 \le V \le \mathrm{range}(x)^2/4` gives
    :math:`\|u_r u_r^\top\| = \|u_r\|^2 \le K := \sum_i x_{i,d}^2\,\mathrm{range}(x_i)^4/16`. The
    summands :math:`S_r = (u_r u_r^\top - H^*)/m` are independent, centred, with
    :math:`\|S_r\| \le K/m` (difference of two PSD matrices of norm :math:`\le K`) and
    :math:`\|\sum_r \mathbb E S_r^2\| \le K\|H^*\|/m` (since :math:`\mathbb E (uu^\top)^2 =
    \mathbb E\|u\|^2 uu^\top \preceq K H^*`). The **matrix Bernstein inequality** (Tropp 2015,
    *An Introduction to Matrix Concentration Inequalities*, Thm 6.1.1) then gives

    .. math::

        \Pr\big[\|H(0) - H^*\|_2 \ge t\big] \le 2n \exp\Big(-\frac{m t^2}{2K(\|H^*\| + t/3)}\Big),

    so with probability :math:`\ge 1-\delta`, :math:`\|H(0)-H^*\| \le t_\delta(m) =
    \frac{a + \sqrt{a^2 + 8 m K \ell \|H^*\|}}{2m}`, :math:`a = 2K\ell/3`,
    :math:`\ell = \log(2n/\delta)`; and :math:`\|H(0) - H^*\| \le \lambda/4` needs
    :math:`m \ge m_{conc} = 32 K \ell (\|H^*\| + \lambda/12)/\lambda^2`.

Resolution of λ
    :math:`\lambda = \lambda_{\min}(H^*)` is known only to :math:`\pm\,\rho` with
    :math:`\rho = n\,(e_{quad} + \epsilon_{64}\|H^*\|)` (Weyl: an entrywise error :math:`e` moves
    eigenvalues by at most :math:`n e`; :math:`e_{quad}` is the quadrature's error estimate). When
    :math:`\lambda \le \rho` it is indistinguishable from 0 in float64; the calculator then
    recomputes :math:`H^*` and :math:`\lambda` in extended precision
    (:func:`ntk_attention.infinite_ntk_mp`, error bound by Weyl) and :math:`\rho` becomes that
    bound. Only when :math:`\lambda \le \rho` still is every bound with :math:`1/\lambda` vacuous.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from jaxtyping import Float

from ntk_attention import infinite_ntk, infinite_ntk_mp
from ntk_attention.stability import stability_limit

__all__ = [
    "DEFAULT_CONSTANTS",
    "Figure",
    "Lambda",
    "Theory",
    "data_constants",
    "popoviciu_constant",
    "lambda_star",
    "bernstein_deviation",
    "bernstein_width",
    "theory",
    "format_theory",
    "configured_constants",
    "summary",
    "EXTENDED_MAX_N",
]

EXTENDED_MAX_N = 64
"""Largest n for which the extended-precision λ is attempted (its cost grows like n² x nodes: 28 s
at n = 64, d = 8 on a loaded 2-core machine)."""

EPS64 = float(np.finfo(np.float64).eps)
DEFAULT_CONSTANTS = {"c_T": 1.0, "c_A": 1.0, "c_m": 1.0, "c_eta": 1.0}
"""The unknown constants of Theorem 5.2's Ω/O, each 1 unless configured."""


class Figure(NamedTuple):
    """One calculator line: name, value, formula, and the unknown constant it carries (or '')."""

    name: str
    value: float
    formula: str
    constant: str = ""


class Lambda(NamedTuple):
    r""":math:`\lambda_{\min}(H^*)`, its resolution :math:`\rho`, :math:`\|H^*\|` and whether
    :math:`\lambda > \rho`.

    ``precision`` is ``"float64"`` or ``"extended"`` (then ``resolution`` is the extended
    computation's error bound and ``float64_resolution`` the float64 one it replaced).
    """

    value: float
    resolution: float
    norm: float
    quadrature_error: float
    resolved: bool
    precision: str = "float64"
    float64_resolution: float = math.nan


class Theory(NamedTuple):
    """The calculator's figures in order, λ's resolution record, and the constants ``c_*`` used."""

    figures: tuple
    lam: Lambda
    constants: dict = DEFAULT_CONSTANTS
    data: dict = {}

    def get(self, name: str) -> float:
        for f in self.figures:
            if f.name == name:
                return f.value
        raise KeyError(name)


def data_constants(X: Float[np.ndarray, "n d"], y: Float[np.ndarray, " n"]) -> dict:
    r""":math:`B = \max_{i,k}|x_{i,k}|`, :math:`D = \max_i|y_i|`,
    :math:`v_{\min} = \min_i \frac1d\sum_k (x_{i,k}-\bar x_i)^2`."""
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    return {
        "B": float(np.abs(X).max()),
        "D": float(np.abs(y).max()),
        "v_min": float(X.var(axis=1).min()),
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
    }


def popoviciu_constant(X: Float[np.ndarray, "n d"]) -> float:
    r""":math:`K = \sum_i x_{i,d}^2 (\max_k x_{i,k} - \min_k x_{i,k})^4 / 16 \ge \|u_r\|^2`
    (Popoviciu)."""
    X = np.asarray(X, np.float64)
    rng = X.max(axis=1) - X.min(axis=1)
    return float(np.sum(X[:, -1] ** 2 * rng**4) / 16.0)


def lambda_star(
    X: Float[np.ndarray, "n d"], *, sigma: float = 1.0, H_star=None, extended: bool = False
) -> tuple[Lambda, np.ndarray]:
    r""":math:`\lambda = \lambda_{\min}(H^*)` with its resolution
    :math:`\rho = n(e_{quad} + \epsilon\|H^*\|)`.

    ``H_star`` may be an :class:`ntk_attention.InfiniteNTK` already computed. With ``extended``,
    a λ at or below its float64 resolution is recomputed in extended precision
    (:func:`ntk_attention.infinite_ntk_mp`, for n <= ``EXTENDED_MAX_N``): then
    :math:`\rho` is its error bound :math:`\|\Delta H\|_F \ge |\Delta\lambda|` (Weyl).
    Returns ``(Lambda, H*)``.
    """
    if H_star is None:
        H_star = infinite_ntk(np.asarray(X, np.float64), sigma=sigma, return_error=True)
    H = np.asarray(H_star.matrix, np.float64)
    ev = np.linalg.eigvalsh(H)
    n = H.shape[0]
    norm = float(np.abs(ev).max())
    rho = n * (float(H_star.error_estimate) + EPS64 * norm)
    if extended and not ev[0] > rho and n <= EXTENDED_MAX_N:
        ext = infinite_ntk_mp(np.asarray(X, np.float64), sigma=sigma)
        lam = Lambda(
            ext.lambda_min,
            ext.lambda_error,
            float(np.abs(ext.eigenvalues).max()),
            ext.quadrature_error,
            bool(ext.lambda_min > ext.lambda_error),
            "extended",
            rho,
        )
        return lam, ext.matrix
    return Lambda(
        float(ev[0]), rho, norm, float(H_star.error_estimate), bool(ev[0] > rho), "float64", rho
    ), H


def bernstein_deviation(m, *, K: float, norm: float, n: int, delta: float):
    r""":math:`t_\delta(m)`: with probability :math:`\ge 1-\delta`,
    :math:`\|H(0)-H^*\|_2 \le t_\delta(m)` (matrix Bernstein)."""
    if not 0 < delta < 1:
        raise ValueError(f"delta: expected a probability in (0, 1), got {delta!r}")
    m = np.asarray(m, np.float64)
    ell = math.log(2 * n / delta)
    a = 2 * K * ell / 3
    return (a + np.sqrt(a * a + 8 * m * K * ell * norm)) / (2 * m)


def bernstein_width(lam: float, *, K: float, norm: float, n: int, delta: float) -> float:
    r""":math:`m_{conc} = 32 K \log(2n/\delta)(\|H^*\| + \lambda/12)/\lambda^2`
    (inf when λ <= 0)."""
    if lam <= 0:
        return math.inf
    return 32 * K * math.log(2 * n / delta) * (norm + lam / 12) / lam**2


def configured_constants(config: Mapping[str, Mapping]) -> dict:
    """The unknown constants set in a validated ``ntk-verify`` configuration: ``c_T`` of [C1],
    ``c_A`` of [C2].

    Those not configured anywhere (``c_m``, ``c_eta``) keep their default 1.
    """
    out = dict(DEFAULT_CONSTANTS)
    for section, name in (("C1", "c_T"), ("C2", "c_A")):
        if name in config.get(section, {}):
            out[name] = float(config[section][name])
    return out


def _div(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


def theory(
    X: Float[np.ndarray, "n d"],
    y: Float[np.ndarray, " n"],
    *,
    eta: float,
    delta: float,
    eps: float,
    sigma: float = 1.0,
    width: int,
    lambda_max_h0: float | None = None,
    constants: Mapping[str, float] | None = None,
    H_star=None,
    extended: bool = True,
) -> Theory:
    r"""Every figure of the theory calculator (docs/theory.md) for the data ``(X, y)``, step size
    ``eta``, ``delta``, target loss ``eps``.

    ``lambda_max_h0`` is :math:`\lambda_{\max}(H(0))` of an initialised network (the GD stability
    limit is :math:`2/\lambda_{\max}(H(0))`); ``width`` is the m used in :math:`t_{align}`.
    ``extended`` (default): λ below float64's resolution is recomputed in extended precision
    (see :func:`lambda_star`). When λ is still not resolved, figures with :math:`1/\lambda` are
    ``inf``.
    """
    c = {**DEFAULT_CONSTANTS, **(constants or {})}
    unknown = set(c) - set(DEFAULT_CONSTANTS)
    if unknown:
        raise ValueError(
            f"constants: unknown names {sorted(unknown)}; expected {sorted(DEFAULT_CONSTANTS)}"
        )
    if eta <= 0 or eps <= 0:
        raise ValueError(f"eta, eps: expected positive numbers, got eta = {eta!r}, eps = {eps!r}")
    dc = data_constants(X, y)
    lam, _ = lambda_star(X, sigma=sigma, H_star=H_star, extended=extended)
    K = popoviciu_constant(X)
    n, d, B, D, vmin = dc["n"], dc["d"], dc["B"], dc["D"], dc["v_min"]
    lam_eff = lam.value if lam.resolved else 0.0
    growth = math.exp(min(B * B, 700.0)) * math.exp(min(D, 700.0)) * n * d
    figs = [
        Figure("lambda", lam.value, "lambda_min(H*)"),
        Figure(
            "lambda_resolution",
            lam.resolution,
            "n (quadrature error + eps ||H*||)"
            if lam.precision == "float64"
            else "extended precision: ||Delta H*||_F (quadrature + tail + rounding), Weyl",
        ),
        Figure("H_star_norm", lam.norm, "||H*||_2"),
        Figure("B", B, "max |x_ik|"),
        Figure("D", D, "max |y_i|"),
        Figure("v_min", vmin, "min_i (1/d) sum_k (x_ik - mean_i)^2"),
        Figure("popoviciu_K", K, "sum_i x_id^2 range_i^4 / 16"),
    ]
    if lambda_max_h0 is not None:
        figs += [
            Figure("lambda_max_H0", float(lambda_max_h0), "lambda_max(H(0))"),
            Figure("eta_stability_limit", stability_limit(lambda_max_h0), "2 / lambda_max(H(0))"),
        ]
    figs += [
        Figure(
            "T_req",
            c["c_T"] * _div(math.log(n * B * B / eps), eta * lam_eff),
            "c_T (eta lambda)^-1 log(n B^2 / eps)",
            "c_T",
        ),
        Figure(
            "t_align",
            c["c_A"] * _div(width, eta * lam_eff * vmin),
            "c_A m / (eta lambda v_min)",
            "c_A",
        ),
        Figure(
            "m_conc",
            bernstein_width(lam_eff, K=K, norm=lam.norm, n=n, delta=delta),
            "32 K log(2n/delta) (||H*|| + lambda/12) / lambda^2  "
            "[matrix Bernstein, ||H(0)-H*|| <= lambda/4]",
        ),
        Figure(
            "m_thm_degree1",
            c["c_m"] * _div(growth, lam_eff),
            "c_m lambda^-1 e^{B^2} e^D n d  [poly unknown: degree-1 reading]",
            "c_m",
        ),
        Figure(
            "eta_thm_degree1",
            c["c_eta"] * lam_eff * delta / growth,
            "c_eta lambda delta / (e^{B^2} e^D n d)  [degree-1 reading]",
            "c_eta",
        ),
        Figure(
            "bernstein_t_at_m",
            float(
                bernstein_deviation(
                    width, K=K, norm=lam.norm + lam.quadrature_error, n=n, delta=delta
                )
            ),
            "t_delta(m): ||H(0)-H*|| bound w.p. >= 1-delta at the given width",
        ),
    ]
    return Theory(tuple(figs), lam, c, dict(dc, eta=float(eta), width=int(width)))


def summary(th: Theory, *, steps: int | None = None) -> dict:
    r"""The calculator as one JSON-ready dict: ``n``, ``lambda``, ``lambda_error``, ``T_req``,
    ``t_align``, ...

    ``lambda_error`` is λ's resolution :math:`\rho` (float64, or the extended-precision bound);
    ``lambda_precision`` says which. With ``steps`` (the training length actually run),
    ``T_req_over_steps`` and ``t_align_over_steps`` say how far beyond reach the premises are,
    and ``log10_*`` the decades. Infinite figures are ``None`` (JSON has no inf).
    """

    def num(v):
        v = float(v)
        return v if math.isfinite(v) else None

    out = {
        "n": int(th.data.get("n", 0)),
        "d": int(th.data.get("d", 0)),
        "lambda": num(th.lam.value),
        "lambda_error": num(th.lam.resolution),
        "lambda_resolved": bool(th.lam.resolved),
        "lambda_precision": th.lam.precision,
        "lambda_float64_resolution": num(th.lam.float64_resolution),
    }
    out.update(
        {f.name: num(f.value) for f in th.figures if f.name not in ("lambda", "lambda_resolution")}
    )
    out["constants"] = dict(th.constants)
    if steps is not None:
        steps = int(steps)
        for name in ("T_req", "t_align"):
            v = th.get(name)
            out[f"{name}_over_steps"] = num(v / steps)
            out[f"log10_{name}_over_steps"] = (
                num(math.log10(v / steps)) if 0 < v < math.inf else None
            )
        out["steps"] = steps
    if "width" in th.data:
        out["m"] = th.data["width"]
        out["m_conc_over_m"] = num(th.get("m_conc") / th.data["width"])
    return out


def format_theory(
    th: Theory, constants: Mapping[str, float] | None = None, *, header: str = ""
) -> str:
    """Aligned text table: name, value, formula, and ``c_* = value`` beside each figure with one.

    The constants printed are those the figures were computed with (``th.constants``);
    ``constants``, if given, must agree with them (a mismatch would print a constant that did
    not produce the figure beside it).
    """
    c = dict(th.constants)
    wrong = {k: v for k, v in (constants or {}).items() if c.get(k) != v}
    if wrong:
        raise ValueError(f"constants: {wrong} differ from those the figures were computed with {c}")
    lines = [header] if header else []
    width = max(len(f.name) for f in th.figures)
    for f in th.figures:
        const = f"   ({f.constant} = {c[f.constant]:g})" if f.constant else ""
        lines.append(f"{f.name:<{width}}  {f.value:<12.4g} {f.formula}{const}")
    if th.lam.precision == "extended":
        lines.append(
            f"lambda = {th.lam.value:.6g} +- {th.lam.resolution:.2g} in extended precision "
            f"(mpmath, Weyl bound); float64 resolved only {th.lam.float64_resolution:.3g}."
        )
    if not th.lam.resolved:
        lines.append(
            f"lambda = {th.lam.value:.3g} <= resolution {th.lam.resolution:.3g}: "
            f"indistinguishable from 0 in {th.lam.precision}; "
            "every figure with 1/lambda is vacuous (inf)."
        )
    return "\n".join(lines)
