"""Safe loading: results are read without pickle, and damaged or edited files are refused.

Results folders are written by the toolkit's own writers (``report.write_results`` with a
constructed verdict, ``sweep_cmd.run_sweep`` on a tiny sweep), then damaged: truncated, edited,
a byte flipped, deleted, or forged with a pickled payload.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from verification import files, report
from verification.report import CHECKSUM_KEY, ResultsError, content_sha256, load_results
from verification.rules._verdict import Verdict


def _results(folder):
    v = Verdict(
        claim="C99",
        status="HOLDS",
        explanation="constructed",
        measured={"x": 1.5},
        arrays={"loss": np.linspace(1.0, 0.1, 7), "count": np.arange(4)},
        seed=3,
    )
    config = {"run": {"seed": 3}}
    report.write_results(
        report.check_output_dir(folder, force=False), [v], config, {"x64": True, "dtype": "float64"}
    )
    return folder


def _cli_report(folder) -> tuple[int, str]:
    from verification.commands._cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["report", str(folder)])
    return code, err.getvalue()


def _refused(folder, match):
    with pytest.raises(ResultsError, match=match):
        load_results(folder)
    code, err = _cli_report(folder)
    assert code == 2 and err.count("\n") == 1 and err.startswith("ntk-verify report: error: "), err


def test_results_tampering_is_refused(tmp_path):
    good = _results(tmp_path / "good")
    summary, verdicts = load_results(good)
    assert summary[CHECKSUM_KEY] == content_sha256(summary) and verdicts[0].arrays[
        "loss"
    ].shape == (7,)
    raw_summary, raw_evidence = (
        (good / "summary.json").read_bytes(),
        (good / "evidence.npz").read_bytes(),
    )
    rng = np.random.default_rng(5)

    def fresh(name):
        d = tmp_path / name
        d.mkdir()
        (d / "summary.json").write_bytes(raw_summary)
        (d / "evidence.npz").write_bytes(raw_evidence)
        return d

    for cut in rng.integers(1, len(raw_summary) - 1, 5):  # truncated summary.json
        d = fresh(f"cut-summary-{cut}")
        (d / "summary.json").write_bytes(raw_summary[:cut])
        _refused(d, "summary.json: (not valid JSON|its content does not match|expected format)")
    d = fresh("edited-status")  # valid JSON, one value changed
    (d / "summary.json").write_text(
        raw_summary.decode().replace('"status": "HOLDS"', '"status": "VIOLATED"', 1)
    )
    _refused(d, "summary.json: its content does not match its content_sha256")
    d = fresh("other-format")
    (d / "summary.json").write_text(raw_summary.decode().replace(report.FORMAT, "ntk-verify/0"))
    _refused(d, "expected format")
    for cut in rng.integers(1, len(raw_evidence) - 1, 5):  # truncated archive
        d = fresh(f"cut-evidence-{cut}")
        (d / "evidence.npz").write_bytes(raw_evidence[:cut])
        _refused(d, "evidence.npz: SHA-256 differs")
    d = fresh("flipped-byte")
    flipped = bytearray(raw_evidence)
    flipped[len(flipped) // 2] ^= 0x01
    (d / "evidence.npz").write_bytes(bytes(flipped))
    _refused(d, "evidence.npz: SHA-256 differs")
    d = fresh("no-evidence")
    (d / "evidence.npz").unlink()
    _refused(d, "evidence.npz: not found")


class _Payload:
    """Unpickling this writes a marker file: proof that a pickle ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_results_are_never_unpickled(tmp_path):
    d = _results(tmp_path / "forged")
    marker = tmp_path / "PWNED"
    buf = io.BytesIO()  # an .npz whose member is an object array: np.save pickles it
    with zipfile.ZipFile(buf, "w") as zf:
        member = io.BytesIO()
        np.lib.format.write_array(
            member, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True
        )
        zf.writestr("C99/loss.npy", member.getvalue())
    forged = buf.getvalue()
    assert (
        pickle.loads(pickle.dumps(0)) == 0
    )  # pickle itself works here: the refusal below is the loader's
    (d / "evidence.npz").write_bytes(forged)
    summary = json.loads((d / "summary.json").read_text())
    summary["evidence_sha256"] = hashlib.sha256(forged).hexdigest()
    summary[CHECKSUM_KEY] = content_sha256(summary)  # the forger recomputes every checksum
    (d / "summary.json").write_text(files.json_text(summary))
    with pytest.raises(ResultsError, match="cannot read the evidence archive"):
        load_results(d)
    assert not marker.exists(), "a pickle in the results ran"


def test_sweep_tampering_is_refused(tmp_path):
    from ntk_attention.sweep import SweepResult
    from tests.hardening.cli_runs import TINY_SWEEP
    from verification import files
    from verification import sweeps as sweep_cmd

    (tmp_path / "tiny.toml").write_text(TINY_SWEEP.replace("seeds = 6", "seeds = 2"))
    config = sweep_cmd.resolve_config(str(tmp_path / "tiny.toml"))
    out = tmp_path / "sweep"
    sweep_cmd.run_sweep(config, out, log=None)
    sweep_cmd.merge(out)
    expected = sweep_cmd.load_merged(out)
    raw = (out / "sweep.npz").read_bytes()

    (out / "sweep.npz").write_bytes(raw[: len(raw) // 2])  # truncated merged file
    with pytest.raises(ResultsError, match="sweep.npz: SHA-256 differs"):
        sweep_cmd.load_merged(out)
    edited = dict(np.load(io.BytesIO(raw), allow_pickle=False))
    edited["loss"] = edited["loss"] * 0.5  # a valid archive with other numbers
    (out / "sweep.npz").write_bytes(files.npz_bytes(edited))
    with pytest.raises(ResultsError, match="sweep.npz: SHA-256 differs"):
        sweep_cmd.load_merged(out)

    (
        out / "sweep.npz"
    ).unlink()  # a damaged block is treated as missing: recomputed to the same numbers
    block = out / "blocks" / "block-00001.npz"
    block.write_bytes(block.read_bytes()[:100])
    assert sweep_cmd.run_sweep(config, out, log=None).computed == [1]
    got = sweep_cmd.load_merged(out)
    for field in SweepResult._fields:
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)

    head = json.loads(
        (out / "sweep.json").read_text()
    )  # edited configuration: fingerprint mismatch
    head["config"]["sweep"]["eta"] = 0.5
    (out / "sweep.json").write_text(json.dumps(head))
    (out / "sweep.npz").unlink()
    with pytest.raises(ResultsError, match="fingerprint does not match"):
        sweep_cmd.load_merged(out)
