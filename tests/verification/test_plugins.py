"""Plug-in claims: ``--plugin FILE_OR_MODULE`` and the entry-point group ``ntk_verify.claims``."""

import json
import textwrap

import pytest

from verification import claims as registry
from verification.commands import _cli as cli

PLUGIN = textwrap.dedent("""
    import numpy as np
    from verification import config as cfg
    from verification.contract import Claim
    from verification.rules._verdict import HOLDS, VIOLATED, Verdict

    def check_c8(*, values, bound, config=None, seed=None):
        v = np.asarray(values, np.float64)
        return Verdict(claim="C8", status=HOLDS if v.max() <= bound else VIOLATED,
                       explanation="max vs bound.", measured={"max": float(v.max())},
                       config=config or {}, seed=seed, arrays={"values": v})

    def run_c8(section, ctx):
        return check_c8(values=np.arange(section["k"]), bound=section["bound"],
                        config={"C8": section})

    def plot_c8(v, out):
        (out / "c8.png").write_bytes(b"png " + v.arrays["values"].tobytes())
        return ["c8.png"]

    CLAIMS = (Claim(id="C8", source="test", title="a plug-in claim", statement="x \\\\le b",
                    params={"k": cfg.positive_int(3, "values"),
                            "bound": cfg.positive_float(10.0, "bound")},
                    run=run_c8, check=check_c8, plot=plot_c8,
                    summary=lambda v: f"max {v.measured['max']:g}"),)
""")


@pytest.fixture
def clean_registry():
    claims, plugins = dict(registry.CLAIMS), dict(registry.PLUGINS)
    yield
    registry.CLAIMS.clear()
    registry.CLAIMS.update(claims)
    registry.PLUGINS.clear()
    registry.PLUGINS.update(plugins)


def test_plugin_file_runs_records_and_rerenders(tmp_path, capsys, clean_registry):
    plugin = tmp_path / "c8_plugin.py"
    plugin.write_text(PLUGIN)
    assert cli.main(["config", "--default", "--plugin", str(plugin)]) == 0
    assert "[C8]\n# values" in capsys.readouterr().out
    out = tmp_path / "res"
    assert (
        cli.main(["run", "--plugin", str(plugin), "--claims", "c8", "--out", str(out), "--quiet"])
        == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["plugins"] == {str(plugin.resolve()): ["C8"]}
        and summary["verdicts"][0]["status"] == "HOLDS"
    )
    report = (out / "report.md").read_text()
    # the row: claim, source, statement, theorem, observed (none for a plug-in), key numbers
    assert (
        "| C8 | test | a plug-in claim | **HOLDS** | — | max 2 |" in report
        and "![C8](c8.png)" in report
    )
    assert "seed None" not in report

    # a fresh process knows no C8: `report` reloads the plug-in the results name
    registry.CLAIMS.pop("C8")
    registry.PLUGINS.clear()
    (out / "c8.png").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert (out / "c8.png").exists() and "max 2" in (out / "report.md").read_text()

    registry.CLAIMS.pop("C8")
    registry.PLUGINS.clear()
    plugin.rename(tmp_path / "moved.py")
    capsys.readouterr()
    assert cli.main(["report", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "c8_plugin.py" in err and "cannot be loaded" in err and len(err.splitlines()) == 1
    assert (
        cli.main(["report", str(out), "--plugin", str(tmp_path / "moved.py")]) == 0
    )  # given where it is now
    assert "max 2" in (out / "report.md").read_text()


def test_bad_plugins_are_refused_in_one_line(tmp_path, capsys, clean_registry):
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom')\n")
    clash = tmp_path / "clash.py"
    clash.write_text(PLUGIN.replace('id="C8"', 'id="C1"'))
    for path, words in (
        (tmp_path / "missing.py", "no such file"),
        (empty, "neither CLAIMS"),
        (broken, "RuntimeError: boom"),
        (clash, "'C1' is already registered"),
    ):
        assert cli.main(["config", "--default", "--plugin", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and len(err.splitlines()) == 1, err
    assert cli.main(["run", "--claims", "C8", "--out", str(tmp_path / "x")]) == 2
    assert "--claims" in capsys.readouterr().err


def test_entry_point_group_loads_installed_plugins(tmp_path, monkeypatch, clean_registry):
    (tmp_path / "c8_installed.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))

    class EntryPoint:
        value = "c8_installed"

    def entry_points(*, group):
        assert group == "ntk_verify.claims"
        return [EntryPoint()]

    monkeypatch.setattr(registry.importlib.metadata, "entry_points", entry_points)
    assert registry.load_extensions() == ["c8_installed"]
    assert "C8" in registry.CLAIMS and registry.PLUGINS["c8_installed"] == ("C8",)
