r"""Statistics behind the verdicts: exact binomial intervals, bootstrap intervals, log-log slopes.

* Clopper–Pearson: for :math:`k` successes in :math:`n` trials, the two-sided level-:math:`1-\alpha`
  interval is :math:`[B(\alpha/2; k, n-k+1),\ B(1-\alpha/2; k+1, n-k)]` with :math:`B(q; a, b)` the
  Beta quantile (lower end 0 when :math:`k = 0`, upper end 1 when :math:`k = n`). Exact: its
  coverage is at least :math:`1-\alpha` for every true proportion.
* Percentile bootstrap: resample the observations (rows) with replacement, recompute the statistic,
  report the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles.
* Log-log slope: least squares :math:`\log y = b + s \log x`, with the :math:`t` interval
  :math:`s \pm t_{1-\alpha/2,\,N-2}\,\mathrm{se}(s)`,
  :math:`\mathrm{se}(s)^2 = \frac{\sum_j r_j^2/(N-2)}{\sum_j (\log x_j - \overline{\log x})^2}`.

Decision rules (each returns a ``NamedTuple`` with ``status``, its numbers and a one-line
``rule`` saying what decided; error rates on planted truths in docs/calibration.md). This module is
the
front: the intervals live in :mod:`verification.rules._intervals`, the rules in
:mod:`verification.rules._decisions`
and :mod:`verification.rules._resolution`:

* :func:`rate_decision` — an :math:`O(m^p)` claim from a width × seed table, equivalence margins
  :math:`\Delta` (HOLDS) and :math:`\Delta_v` (VIOLATED);
* :func:`bounded_by` — a value against an explicit bound (deterministic or :math:`1-\delta`);
* :func:`probability_decision` — failure counts per width against :math:`\delta`
  (Clopper–Pearson, intersection–union for HOLDS, Holm for VIOLATED), with :func:`holm`;
* :func:`resolution_check`, :func:`float_floor`, :func:`envelope_decision` — checks that cannot
  fail are VACUOUS; losses within the float floor are never breaks.

>>> lo, hi = clopper_pearson(0, 10)
>>> round(hi, 4)  # 1 - 0.025 ** (1/10)
0.3085
>>> rate_status(-0.55, -0.45)  # upper end -0.45 <= -1/2 + 0.1
'HOLDS'
"""

from verification.rules._decisions import (
    BoundDecision,
    ProbabilityDecision,
    RateDecision,
    bounded_by,
    probability_decision,
    probability_statuses,
    rate_bounds,
    rate_decision,
    rate_status,
)
from verification.rules._intervals import (
    SlopeFit,
    adjusted_alpha,
    bootstrap_interval,
    clopper_pearson,
    holm,
    loglog_slope,
)
from verification.rules._resolution import (
    EnvelopeDecision,
    ResolutionDecision,
    envelope_decision,
    float_floor,
    resolution_check,
)

__all__ = [
    "clopper_pearson",
    "bootstrap_interval",
    "SlopeFit",
    "loglog_slope",
    "RateDecision",
    "rate_bounds",
    "rate_status",
    "rate_decision",
    "BoundDecision",
    "bounded_by",
    "ProbabilityDecision",
    "probability_statuses",
    "probability_decision",
    "holm",
    "adjusted_alpha",
    "ResolutionDecision",
    "resolution_check",
    "float_floor",
    "EnvelopeDecision",
    "envelope_decision",
]
