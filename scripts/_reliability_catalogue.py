"""What the hardening tests try, in one place: the source of ``docs/reliability.md``.

* the core cases (:func:`_core_cases`) and :data:`CONFIG_CASES` are executed both by the tests
  (``tests/hardening/test_fuzz_core.py``, ``tests/hardening/test_cli_hostile.py``) and by
  :func:`render`, which writes the message each one actually produced into the table;
* :data:`FUZZ_ROWS` and :data:`FAULT_ROWS` describe the hypothesis searches and injected faults;
  each row names the test that asserts its outcome, and ``tests/hardening/test_reliability_doc.py``
  checks that every hardening test has a row and that the committed Markdown equals :func:`render`.

The catalogue lives beside its generator because scripts never import the tests; the tests load
it with ``tests.docs.scripts.load_script("_reliability_catalogue")``.
``python scripts/make_reliability.py`` rewrites the file; ``--check`` reports drift.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import tempfile
from pathlib import Path

import numpy as np

N, D, M = 3, 4, 5


def _X(scale=1.0, dtype=np.float64):
    return (np.random.default_rng(0).standard_normal((N, D)) * scale).astype(dtype)


def _params(scale=1.0, dtype=np.float64):
    import ntk_attention as na

    w = (np.random.default_rng(1).standard_normal(M) * scale).astype(dtype)
    return na.Params(w, np.where(np.arange(M) % 2, -1.0, 1.0).astype(dtype))


def _with(x, index, value):
    x = np.array(x)
    x[index] = value
    return x


def _core_cases():
    """(function, input, thunk): deterministic hostile inputs; each thunk calls the public API."""
    import jax

    import ntk_attention as na
    from ntk_attention import data, linear

    p, X = _params(), _X()
    ssm = data.random_stable_ssm(jax.random.key(0), 2, radius=1.0)
    return [
        ("forward", "X containing NaN", lambda: na.forward(p, _with(X, (1, 2), math.nan))),
        ("forward", "X containing -inf", lambda: na.forward(p, _with(X, (0, 3), -math.inf))),
        (
            "forward",
            "X with an entry 1e300 (float64)",
            lambda: na.forward(p, _with(X, (2, 1), 1e300)),
        ),
        ("forward", "scores |w x_d x_k| ≈ 3e20 (X ~ 1e10)", lambda: na.forward(p, X * 1e10)),
        (
            "forward",
            "float32 windows of size 3e4 (scores ≈ 1e9)",
            lambda: na.forward(_params(dtype=np.float32), _X(3e4, np.float32)),
        ),
        ("forward", "X with subnormal entries 1e-310", lambda: na.forward(p, _X(1e-310))),
        ("forward", "integer X", lambda: na.forward(p, np.ones((N, D), np.int32))),
        ("forward", "empty X (0 windows)", lambda: na.forward(p, np.zeros((0, D)))),
        ("forward", "ragged nested list", lambda: na.forward(p, [[1.0, 2.0], [3.0]])),
        ("forward", "params = None", lambda: na.forward(None, X)),
        (
            "forward",
            "params as a dict {'w': w, 'a': a}",
            lambda: na.forward({"w": p.w, "a": p.a}, X),
        ),
        (
            "forward",
            "params.a of another length",
            lambda: na.forward(na.Params(p.w, np.ones(M + 1)), X),
        ),
        (
            "softmax_moments",
            "windows of length d = 1",
            lambda: na.softmax_moments(p.w, np.ones((N, 1))),
        ),
        (
            "empirical_ntk",
            "X2 with d = 3 against X with d = 4",
            lambda: na.empirical_ntk(p, X, np.ones((2, 3))),
        ),
        (
            "empirical_ntk",
            "X ~ 1e60 (H ~ |x|^6 overflows)",
            lambda: na.empirical_ntk(na.Params(p.w * 1e-120, p.a), X * 1e60),
        ),
        ("empirical_ntk", "method = 'exact'", lambda: na.empirical_ntk(p, X, method="exact")),
        ("infinite_ntk", "sigma = 5e-324", lambda: na.infinite_ntk(X, sigma=5e-324)),
        ("infinite_ntk", "nodes = 10**6", lambda: na.infinite_ntk(X, nodes=10**6)),
        ("infinite_ntk", "sigma = 10**400 (Python int)", lambda: na.infinite_ntk(X, sigma=10**400)),
        ("min_eigenvalue", "empty 0 × 0 matrix", lambda: na.min_eigenvalue(np.zeros((0, 0)))),
        (
            "min_eigenvalue",
            "entries 1e308 (H + Hᵀ would overflow)",
            lambda: na.min_eigenvalue(np.full((2, 2), 1e308)),
        ),
        ("window_variance", "w of shape (2, 2)", lambda: na.window_variance(X, np.ones((2, 2)))),
        ("init_params", "key = 'abc'", lambda: na.init_params("abc", 4)),
        (
            "init_params",
            "sigma = 1e300 with dtype float32",
            lambda: na.init_params(jax.random.key(0), 4, sigma=1e300, dtype=np.float32),
        ),
        ("init_params", "dtype = 'foo'", lambda: na.init_params(jax.random.key(0), 4, dtype="foo")),
        (
            "train",
            "learning_rate = 1+1j",
            lambda: na.train(p, X, X[:, -1], steps=2, learning_rate=1 + 1j),
        ),
        (
            "train",
            "targets y ~ 1e200",
            lambda: na.train(p, X, X[:, -1] * 1e200, steps=2, learning_rate=0.1),
        ),
        (
            "data.ssm_series",
            "length 700 of an SSM with radius 3",
            lambda: data.ssm_series(
                data.random_stable_ssm(jax.random.key(0), 3, radius=3.0), 700, np.ones(3)
            ),
        ),
        (
            "data.ssm_series",
            "convolution form, length 400, ρ(A) > 1",
            lambda: data.ssm_series(ssm, 400, np.ones(2), method="convolution"),
        ),
        (
            "data.next_step_windows",
            "noise_std = inf",
            lambda: data.next_step_windows(
                np.arange(10.0), 3, noise_std=math.inf, key=jax.random.key(0)
            ),
        ),
        (
            "data.sign_consistent",
            "y = 5e-324 (subnormal) with x_d > 0",
            lambda: data.sign_consistent(np.abs(X), np.full(N, 5e-324)),
        ),
        (
            "linear.linear_forward",
            "w_lin containing NaN",
            lambda: linear.linear_forward(_with(np.ones(D), 0, math.nan), X),
        ),
        (
            "linear.fit_linear_lstsq",
            "windows ~1e-301, targets ~1e10 (weights ~1e311)",
            lambda: linear.fit_linear_lstsq(_X(1e-301), np.full(N, 1e10)),
        ),
        (
            "linear.fit_linear_gd",
            "learning_rate 100 (past 2/λ_max(ZᵀZ))",
            lambda: linear.fit_linear_gd(X, np.zeros(N), steps=500, learning_rate=100.0),
        ),
    ]


def core_outcome(thunk) -> str:
    """``"ValueError: <message>"`` or a description of the (finite) result."""
    try:
        out = thunk()
    except ValueError as err:
        return f"ValueError: {err}"
    arr = np.asarray(out)
    if arr.dtype == bool:
        return f"result {arr.tolist()}"
    return (
        f"finite result, shape {arr.shape}"
        if np.isfinite(arr.astype(np.float64)).all()
        else "NON-FINITE result"
    )


TINY = """[data]\nn = 6\nd = 4\nstate_dim = 3\n"""

CONFIG_CASES = [
    # (input, command line (CONFIG: the file), TOML text or bytes)
    ("not TOML (unclosed table header)", ["run", "--config", "CONFIG"], "[run\nseed = 1\n"),
    ("not UTF-8 (binary bytes)", ["run", "--config", "CONFIG"], b"\xff\xfe\x00garbage"),
    ("a NUL character", ["run", "--config", "CONFIG"], "[run]\nseed = 1\x00\n"),
    ("unknown section [colour]", ["run", "--config", "CONFIG"], "[colour]\nred = 1\n"),
    ("unknown key run.colour", ["run", "--config", "CONFIG"], "[run]\ncolour = 1\n"),
    ("a section given as a value (run = 3)", ["run", "--config", "CONFIG"], "run = 3\n"),
    ('string for an integer (data.n = "24")', ["run", "--config", "CONFIG"], '[data]\nn = "24"\n'),
    ("float for an integer (data.n = 24.0)", ["run", "--config", "CONFIG"], "[data]\nn = 24.0\n"),
    ("boolean for an integer (data.n = true)", ["run", "--config", "CONFIG"], "[data]\nn = true\n"),
    ("nested array for an integer", ["run", "--config", "CONFIG"], "[data]\nn = [[[[1]]]]\n"),
    ("inline table for an integer", ["run", "--config", "CONFIG"], "[data]\nd = {a = 1}\n"),
    ("negative seed", ["run", "--config", "CONFIG"], "[run]\nseed = -1\n"),
    ("eta = nan", ["run", "--config", "CONFIG"], "[C1]\neta = nan\n"),
    ("eta = inf", ["run", "--config", "CONFIG"], "[C1]\neta = inf\n"),
    ("seeds = 10**20", ["run", "--config", "CONFIG"], "[C1]\nseeds = 100000000000000000000\n"),
    ("empty widths list", ["run", "--config", "CONFIG"], "[C1]\nwidths = []\n"),
    ("decreasing widths", ["run", "--config", "CONFIG"], "[C1]\nwidths = [64, 8]\n"),
    (
        "record_every not dividing steps",
        ["run", "--config", "CONFIG"],
        "[C1]\nsteps = 10\nrecord_every = 3\n",
    ),
    (
        "unknown claim id in [run] claims",
        ["run", "--config", "CONFIG"],
        '[run]\nclaims = ["C99"]\n',
    ),
    (
        "a 10 000-character string",
        ["run", "--config", "CONFIG"],
        '[data]\nwindows = "' + "x" * 10000 + '"\n',
    ),
    (
        "C3 width 10**12 (memory)",
        ["run", "--config", "CONFIG", "--claims", "C3"],
        TINY + "[C3]\nwidths = [1000000000000]\n",
    ),
    (
        "C1 width 2**40, seeds 64 (memory)",
        ["run", "--config", "CONFIG"],
        TINY + "[C1]\nwidths = [1099511627776]\nseeds = 64\n",
    ),
    (
        "C6 max_tokens 10**8 (memory)",
        ["run", "--config", "CONFIG", "--claims", "C6"],
        "[C6]\nmax_tokens = 100000000\n",
    ),
    (
        "C2 widths [64, 10**10] (memory: the sweep's Jacobian and per-neuron state)",
        ["run", "--config", "CONFIG", "--claims", "C2"],
        "[C2]\nwidths = [64, 10000000000]\n",
    ),
    (
        "C5 pool 10**12 windows (memory)",
        ["run", "--config", "CONFIG", "--claims", "C5"],
        "[C5]\npool = 1000000000000\n",
    ),
    (
        "sweep width 10**11 (memory)",
        ["sweep", "--config", "CONFIG"],
        TINY + "[sweep]\nwidths = [64, 100000000000]\n",
    ),
    (
        "sweep seeds not a multiple of seeds_per_block",
        ["sweep", "--config", "CONFIG"],
        "[sweep]\nseeds = 5\nseeds_per_block = 2\n",
    ),
    ("--config pointing to a folder", ["run", "--config", "."], None),
    ("--config that does not exist", ["run", "--config", "missing.toml"], None),
    ("--seed -5", ["run", "--seed", "-5"], None),
    ("--claims C1,,X", ["run", "--claims", "C1,,X"], None),
    ("--out naming an existing file", ["run", "--claims", "C3", "--out", "CONFIG"], TINY),
]


def run_config_case(case, folder: Path) -> tuple[int, str, bool]:
    """Run one :data:`CONFIG_CASES` entry in-process in ``folder``: (exit code, stderr, whether the
    output folder ``out`` was created). Exceptions other than SystemExit propagate (a traceback)."""
    import os

    from verification.commands._cli import main

    _, argv, text = case
    config = folder / "config.toml"
    if text is not None:
        config.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    argv = [str(config) if a == "CONFIG" else a for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(folder / "out")]
    err = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    finally:
        os.chdir(cwd)
    return code, err.getvalue(), (folder / "out").exists()


def _issue15_cases():
    """(item, what a user typed, thunk returning what happens now, test asserting it): issue 15's
    reports."""
    import os
    from unittest import mock

    import jax

    import ntk_attention as na
    from verification import pipeline
    from verification.commands._cli import main
    from verification.config import load
    from verification.files import atomic_write

    X = _X()
    p = na.init_params(jax.random.key(0), 8)

    def call(fn):
        def thunk():
            try:
                out = fn()
            except (TypeError, ValueError) as err:
                return f"{type(err).__name__}: {err}"
            return str(out)

        return thunk

    def cli(argv, text=None, memory=None):
        def thunk():
            with tempfile.TemporaryDirectory() as tmp:
                if text is not None:
                    Path(tmp, "my.toml").write_text(text)
                args = [a.replace("TMP", tmp) for a in argv]
                err = io.StringIO()
                patch = (
                    mock.patch.object(pipeline, "physical_memory", lambda: memory)
                    if memory
                    else contextlib.nullcontext()
                )
                with (
                    patch,
                    contextlib.redirect_stderr(err),
                    contextlib.redirect_stdout(io.StringIO()),
                ):
                    code = main(args)
                created = any(Path(tmp, n).exists() for n in ("out", "sw"))
                return f"exit {code}: {err.getvalue().strip().replace(tmp, 'DIR')}" + (
                    " (output folder created)" if created else " (nothing created)"
                )

        return thunk

    def diverged():
        tr = na.train(p, X, X[:, -1], steps=20, learning_rate=1e6)
        reason = na.divergence_report(tr, p, X, learning_rate=1e6).reason
        words = re.sub(r"= [-+0-9.e]+", "= N", reason.split(";")[0])
        return (
            f"diverged_step = {int(tr.diverged_step)} (was -1); diverged_reason: {words}; "
            "… (numbers shown as N)"
        )

    def umask():
        old = os.umask(0o022)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                atomic_write(Path(tmp, "report.md"), b"x")
                return (
                    f"mode {oct(os.stat(Path(tmp, 'report.md')).st_mode & 0o777)} under umask 022"
                )
        finally:
            os.umask(old)

    def claims_case():
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "my.toml").write_text('[run]\nclaims = ["c2"]\n')
            return f"accepted: [run] claims = {load(Path(tmp, 'my.toml'))['run']['claims']}"

    return [
        (
            "1",
            "`na.forward(na.init_params(key, 1024)[:256], X)`",
            call(lambda: na.forward(p[:4], X)),
            "test_slicing_params_is_refused_not_silent",
        ),
        (
            "1",
            "params given as a dict `{'w': w, 'a': a}`",
            call(lambda: na.forward({"w": p.w, "a": p.a}, X)),
            "test_named_cases",
        ),
        (
            "2",
            "`train(..., learning_rate=1e6)` (loss 4.2 → 11.8, frozen)",
            diverged,
            "test_loss_frozen_above_initial_is_divergence",
        ),
        (
            "3",
            "`min_eigenvalue([[1, 2], [0, 1]])`",
            call(lambda: na.min_eigenvalue(np.array([[1.0, 2.0], [0.0, 1.0]]))),
            "test_min_eigenvalue_refuses_asymmetric_matrix",
        ),
        (
            "4",
            "`ntk-verify run --claims C2` with `[C2] widths = [64, 100000000]` on a 23.5 GiB "
            "machine",
            cli(
                ["run", "--claims", "C2", "--config", "TMP/my.toml", "--out", "TMP/out"],
                "[C2]\nwidths = [64, 100000000]\n",
                memory=int(23.5 * 2**30),
            ),
            "test_a_run_that_would_not_fit_is_refused_before_any_work",
        ),
        ("5", "results written under umask 022", umask, "test_atomic_write_honours_umask"),
        (
            "8",
            "`ntk-verify bounds --config my.toml` after `[C2] eta = 0.5`",
            lambda: (
                "each input printed with its source (`eta = 0.05 from my.toml [C1] eta`); "
                "`--eta`, `--width`, `--sigma`, `--n` override (`from --eta`); `--json` prints n, "
                "lambda (extended precision), lambda_error, T_req, t_align and the inputs"
            ),
            "test_bounds_json_reports_extended_lambda_and_the_source_of_each_input",
        ),
        (
            "10",
            "`ntk-verify sweep --widths -64,32`",
            cli(["sweep", "--widths", "-64,32", "--out", "TMP/sw"]),
            "test_negative_width_is_one_line_naming_it",
        ),
        (
            "10",
            "`ntk-verify config --check nope.toml`",
            cli(["config", "--check", "TMP/nope.toml"]),
            "test_config_check_of_a_missing_file_names_check",
        ),
        (
            "10",
            '`claims = ["c2"]` in `[run]` (as `--claims c2`)',
            claims_case,
            "test_claim_ids_are_case_insensitive_in_toml_as_on_the_command_line",
        ),
        (
            "10",
            "`ntk-verify --help`",
            lambda: "scipy.stats is imported on first use, not by `--help`",
            "test_help_does_not_import_scipy_stats",
        ),
    ]


FUZZ_ROWS = [
    # (test, functions, inputs, required outcome)
    (
        "test_moments_family",
        "softmax_moments, forward, last_token_mass, mean_attention_mass, attention_weights, "
        "jacobian",
        "float64/32/16 and bfloat16 params and windows; NaN, ±inf, ±1e300, subnormals, values "
        "10^-320…10^308; empty, integer, boolean, complex, ragged, wrong-rank inputs; params None "
        "/ a string / mismatched; chunk_size 0, 'a'",
        "ValueError naming an argument, or finite and within a propagated rounding bound of a "
        "long-double softmax; mean in the convex hull, 0 ≤ V ≤ range²/4 (Popoviciu)",
    ),
    (
        "test_empirical_ntk",
        "empirical_ntk (closed and autodiff)",
        "as above, X2 absent, fuzzed or of another d; method 'exact' / None",
        "ValueError naming an argument, or H = J J'ᵀ within the bound propagated from J",
    ),
    (
        "test_infinite_ntk",
        "infinite_ntk",
        "fuzzed X, X2; sigma 0, -1, NaN, inf, 1e-300, 1e300, 10**400, '1', None, "
        "complex; nodes 11, 101, '20', 2**63",
        "ValueError naming an argument, or finite, symmetric, PSD within its error "
        "estimate, Popoviciu-bounded diagonal, and H*(2X; σ/4) = 64 H*(X; σ)",
    ),
    (
        "test_window_variance",
        "window_variance",
        "fuzzed X and w",
        "ValueError naming an argument, or the long-double variance",
    ),
    (
        "test_min_eigenvalue",
        "min_eigenvalue",
        "fuzzed square and non-square matrices",
        "ValueError naming H, or "
        "eigvalsh of the matrix scaled by 2⁻⁸, below the smallest diagonal entry",
    ),
    (
        "test_init_params",
        "init_params",
        "keys (typed, legacy, 'abc', 3, None, wrong shapes), hostile widths, sigmas, "
        "signs, dtypes (int32, 'foo')",
        "ValueError naming an argument, or finite weights |w| ≤ 10σ and signs ±1",
    ),
    (
        "test_ssm_series_both_forms",
        "data.random_stable_ssm, data.ssm_series",
        "hostile keys, state_dim, radius (up to 3: unstable), lengths 1–400, dtypes",
        "ValueError naming an argument, or the two forms agree within the convolution's "
        "forward-error estimate (or it refuses, with that estimate above √eps of the series)",
    ),
    (
        "test_windows_and_signs",
        "data.next_step_windows, data.sign_consistent",
        "fuzzed series, d, noise_std, keys, X, y",
        "ValueError naming an argument, or windows equal to sliding_window_view and signs equal "
        "to numpy's",
    ),
    (
        "test_linear",
        "linear.linear_forward, fit_linear_lstsq, fit_linear_gd",
        "fuzzed w_lin, X, y, steps, learning rates up to 1e300",
        "ValueError naming an argument, or: forward within long-double rounding, least squares as "
        "good as numpy's, gradient descent finite (a diverging one refused naming learning_rate)",
    ),
    (
        "test_train",
        "train",
        "fuzzed params, X, y, steps, learning rates (1e308 too), record_every, "
        "divergence_factor, optimizers ('adam', optax.adam(1e30))",
        "ValueError naming an argument, or every record "
        "before diverged_step finite and L(0) equal to the long-double loss",
    ),
    (
        "test_float64_input_without_x64_is_refused_not_overflowed",
        "forward with JAX x64 off",
        "float64 X with 1e300",
        "ValueError: the value does not fit float32 (instead of a silent inf)",
    ),
]

FAULT_ROWS = [
    # (test, what, fault injected, required outcome)
    (
        "test_run_killed_then_rerun_equals_uninterrupted",
        "ntk-verify run (tiny C3)",
        "SIGKILL at 3 uniform moments and while evidence.npz and summary.json are written; ≥ 5 "
        "kills",
        "after each kill the folder is refused (ResultsError) or is complete and byte-identical; "
        "the rerun (--force) gives byte-identical summary.json, evidence.npz, report.md and "
        "leaves no temporary file",
    ),
    (
        "test_run_killed_then_rerun_equals_uninterrupted",
        "determinism",
        "the same configuration and seed run in two processes",
        "byte-identical summary.json, which records package "
        "versions, devices, dtype float64 and the x64 flag",
    ),
    (
        "test_sweep_killed_then_resumed_equals_uninterrupted",
        "ntk-verify sweep (6 blocks)",
        "SIGKILL at 3 uniform moments, while a block and while sweep.npz are written; ≥ 5 kills",
        "every block read back is refused or equal to the uninterrupted run's; the resumed "
        "sweep's merged arrays are equal to it; no temporary file is left",
    ),
    (
        "test_results_tampering_is_refused",
        "summary.json / evidence.npz",
        "truncation at 5 random points, one edited value (status), a flipped byte, deletion, "
        "another format tag",
        "ResultsError naming the file (checksum: content_sha256 in summary.json, evidence_sha256 "
        "for the archive); `ntk-verify report` exits 2 with one line",
    ),
    (
        "test_results_are_never_unpickled",
        "evidence.npz with a pickled object array",
        "archive and both checksums forged to match",
        "refused; the pickle's payload never runs",
    ),
    (
        "test_sweep_tampering_is_refused",
        "sweep.npz / blocks / sweep.json",
        "sweep.npz truncated or edited, a block truncated, sweep.json's configuration edited",
        "sweep.npz refused by its SHA-256 in sweep.json; a damaged block is treated as missing "
        "and recomputed to the same numbers; an edited sweep.json is refused by its fingerprint",
    ),
    (
        "test_divergence_is_named_in_the_verdict",
        "ntk-verify run with η past 2/λ_max(H(0))",
        "C3 with η = 1e300 (runs diverge, or on other float kernels saturate with the loss "
        "bounded); a VIOLATED C1 verdict with η = 10⁶ past the limit (loss stayed bounded)",
        "a warning naming η, λ_max(H(0)) and the limit before training; verdicts VACUOUS naming "
        "the first diverged step (C3) or the limit (C1); no traceback",
    ),
]


ROUNDING_DEPENDENT = (
    # ssm_series' refusal estimates its rounding error from float64 sums whose last bits differ
    # between CPUs
    (
        re.compile(r"rounding error about [-+0-9.e]+ against a series of size [-+0-9.e]+"),
        "rounding error about E against a series of size S",
    ),
)


def machine_independent(message: str) -> str:
    """``message`` with the numbers that depend on the CPU's rounding replaced by letters."""
    for pattern, words in ROUNDING_DEPENDENT:
        message = pattern.sub(words, message)
    return message


def _table(header, rows) -> list[str]:
    esc = [[str(c).replace("|", "\\|").replace("\n", " ") for c in r] for r in rows]
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(r) + " |" for r in esc),
    ]


def render() -> str:
    """The Markdown of ``docs/reliability.md``: every case run now, every row listed."""
    import jax

    jax.config.update("jax_enable_x64", True)  # as the CLI and the tests run
    core = [(fn, inp, machine_independent(core_outcome(thunk))) for fn, inp, thunk in _core_cases()]
    with tempfile.TemporaryDirectory() as tmp:
        cfg_rows = []
        for i, case in enumerate(CONFIG_CASES):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            code, err, created = run_config_case(case, folder)
            message = re.sub(
                r"this machine's [0-9.e+]+ GiB",
                "this machine's M GiB",
                err.strip().replace(str(folder), "DIR"),
            )
            cfg_rows.append(
                (
                    case[0],
                    " ".join(["ntk-verify", *case[1]]),
                    f"exit {code}: {message[:300]}"
                    + ("…" if len(message) > 300 else "")
                    + ("" if not created else " (output folder created)"),
                )
            )
    issue15 = [
        (item, typed, machine_independent(thunk()), test)
        for item, typed, thunk, test in _issue15_cases()
    ]
    lines = [
        "# Reliability: inputs tried, faults injected, what happened",
        "",
        "Generated by `python scripts/make_reliability.py` from "
        "`scripts/_reliability_catalogue.py`; "
        "`tests/hardening/test_reliability_doc.py` fails when this file and the tests disagree. "
        "Messages below are the ones the code produced when the file was generated, except "
        "numbers that depend on the CPU's rounding, shown as letters (E, S), so that the file is "
        "the same on every machine.",
        "",
        "## Core functions: hostile inputs",
        "",
        "Each call must raise a `ValueError` whose message starts with the argument's name, or "
        "return a finite, correct result (`test_named_cases`).",
        "",
        *_table(["function", "input", "outcome"], core),
        "",
        "## Core functions: property-based fuzzing (hypothesis)",
        "",
        "Shapes are fixed (n = 3 windows, d = 4, m = 5 neurons: every new shape compiles); "
        "values, dtypes and hostile stand-ins are drawn. 30 examples per test in the suite; "
        "`NTK_FUZZ_EXAMPLES=2000` runs a deep, randomised search. XLA on CPU flushes subnormal "
        "numbers to zero: references read subnormal inputs as zero and bounds include an absolute "
        "term of the smallest normal number.",
        "",
        *_table(["test", "functions", "inputs drawn", "required outcome"], FUZZ_ROWS),
        "",
        "## `ntk-verify`: hostile configurations and arguments",
        "",
        "Each must exit with status 2 and one line on stderr, without a traceback and before any "
        "work: no output folder is created (`test_hostile_configuration`).",
        "",
        *_table(["input", "command", "what happened"], cfg_rows),
        "",
        "## What a new user ran into (issue 15), and what happens now",
        "",
        *_table(["item", "what the user typed", "what happens now", "test"], issue15),
        "",
        "## Faults injected",
        "",
        *_table(["test", "target", "fault", "required outcome"], FAULT_ROWS),
        "",
        "## Across machines: bitwise on one machine, within a tolerance between machines",
        "",
        "The same configuration and seed give byte-identical `summary.json`, `evidence.npz`, "
        "`report.md` and sweep files when rerun on the same machine (tested above). Between "
        "machines they need not: BLAS, LAPACK, XLA and numpy's SIMD code paths round differently "
        "on other CPUs (AVX2 against AVX-512, OpenBLAS's kernel choice), so floats differ in "
        "their last bits. Across machines the promise is the accuracy each quantity states: data "
        "windows to a few hundred ε·max|u| (`HAAR_ULPS` in tests/verification/test_data_cmd.py), "
        "H* to its quadrature error estimate plus 16 n ε max|H*| "
        "(`ntk_attention.sweep.ntk_infinite_tolerance`: sweep blocks from other hosts merge "
        "within it, a block of another configuration is refused naming the key), a diverged run "
        "by its report of η against 2/λ_max(H(0)) whichever way it diverged. No test compares "
        "floats bit for bit with numbers stored from another run; `scripts/portability-check` "
        "runs the suite under other float kernels to show it.",
        "",
    ]
    return "\n".join(lines)
