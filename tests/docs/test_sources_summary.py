"""``scripts/make_sources_summary.py``: the recipe of docs/sources_summary.json, its ``--check``,
and the committed file being a run of it (numbers not compared: they depend on the machine's
rounding)."""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.docs.scripts import load_script
from verification import config as cfg
from verification.commands import _cli as cli

ms = load_script("make_sources_summary")


def recipe_summary() -> dict:
    """What the recipe's run writes, as far as --check reads it (no verdicts needed)."""
    cli.build_parser()
    configs = {s: cfg.validate({"data": {"source": s}}) for s in ms.SOURCES}
    return json.loads(
        json.dumps(
            {
                "format": "ntk-verify/1",
                "seed": 0,
                "claims": list(ms.CLAIMS),
                "verdicts": [],
                "config": configs[ms.SOURCES[0]],
                "data_sources": list(ms.SOURCES),
                "data_configs": {s: c["data"] for s, c in configs.items()},
            }
        )
    )


def test_recipe_covers_the_default_data_real_series_and_an_ar1():
    assert ms.SOURCES[0] == cfg.default_config()["data"]["source"]
    assert {"haar", "sunspots", "elnino", "unemployment", "ar"} <= set(ms.SOURCES)
    args = cli.build_parser().parse_args(
        ms.command(pathlib.Path("/tmp/x"))
    )  # the command parses as given
    assert (
        args.data == ",".join(ms.SOURCES)
        and args.claims == ",".join(ms.CLAIMS)
        and args.quiet
        and args.force
    )


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda s: s.update(data_sources=s["data_sources"][:-1]), "data_sources"),
        (lambda s: s.update(claims=["C1"]), "claims"),
        (lambda s: s["data_configs"]["ar"].update(d=6), "data_configs['ar']"),
        (lambda s: s["config"]["C1"].update(eps=0.5), "config"),
    ],
)
def test_check_names_what_differs_from_the_recipe(tmp_path, capsys, edit, words):
    good = recipe_summary()
    assert ms.problems(good) == []
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(good))
    assert ms.main(["--check", "--out", str(path)]) == 0
    edit(good)
    assert any(p.startswith(words) for p in ms.problems(good)), ms.problems(good)
    path.write_text(json.dumps(good))
    assert ms.main(["--check", "--out", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "make_sources_summary.py" in err[0]
    assert ms.main(["--check", "--out", str(tmp_path / "missing.json")]) == 1


def test_main_runs_the_recipe_and_copies_its_summary(tmp_path, monkeypatch):
    seen = []

    def fake_main(argv):  # the run itself is minutes: stand in for it, writing what it would
        seen.append(argv)
        work = pathlib.Path(argv[argv.index("--out") + 1])
        work.mkdir(parents=True, exist_ok=True)
        (work / "summary.json").write_text(json.dumps(recipe_summary()))
        return 0

    monkeypatch.setattr(ms.cli, "main", fake_main)
    out = tmp_path / "sources_summary.json"
    assert ms.main(["--out", str(out)]) == 0
    assert json.loads(out.read_text())["data_sources"] == list(ms.SOURCES)
    work = pathlib.Path(seen[0][seen[0].index("--out") + 1])
    assert not work.exists()  # the temporary folder is removed
    monkeypatch.setattr(ms.cli, "main", lambda argv: 2)
    assert ms.main(["--out", str(tmp_path / "other.json"), "--work", str(tmp_path / "w")]) == 2
    assert not (tmp_path / "other.json").exists()


def test_committed_sources_summary_is_a_run_of_the_recipe():
    summary = json.loads(ms.OUT.read_text(encoding="utf-8"))
    assert ms.problems(summary) == [], (
        "docs/sources_summary.json is stale; run: python scripts/make_sources_summary.py"
    )
