"""The `txflags typologies` commands, including exit codes 1 and 2."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from txflags.catalogue import default_root
from txflags.cli.app import _register, app, main

_register()

runner = CliRunner()


def test_list_json_and_help():
    res = runner.invoke(app, ["typologies", "list", "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.stdout)
    assert len(rows) >= 35 and {"id", "indicator", "weight", "requires"} <= set(rows[0])
    for cmd in ("validate", "list", "show", "test"):
        assert runner.invoke(app, ["typologies", cmd, "--help"]).exit_code == 0


def test_show_json():
    res = runner.invoke(app, ["typologies", "show", "remittance.many_senders_small", "--json"])
    data = json.loads(res.stdout)
    assert data["parameters"]["n_min"]["max"] == 200
    assert data["fixture"]["expect_hit"] == ["HIT1"]
    assert "n_distinct" in data["features"]


def test_test_one_json():
    res = runner.invoke(app, ["typologies", "test", "cash.structuring", "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)[0]["passed"] is True


def _copy(tmp_path, tid="cash.structuring"):
    fam, name = tid.split(".")
    (tmp_path / fam).mkdir()
    for suffix in (".yaml", ".fixture.yaml"):
        shutil.copy(default_root() / fam / f"{name}{suffix}", tmp_path / fam / f"{name}{suffix}")
    return tmp_path / fam / name


def test_broken_fixture_exits_1(tmp_path, capsys):
    base = _copy(tmp_path)
    fx = base.with_name(base.name + ".fixture.yaml")
    fx.write_text(fx.read_text().replace("ONE_NEAR: ok", "ONE_NEAR: hit"))
    with pytest.raises(SystemExit) as exc:
        main(["typologies", "test", "--catalogue", str(tmp_path), "--json"])
    assert exc.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert out[0]["diff"] == [{"account": "ONE_NEAR", "expected": "hit", "got": "ok"}]


def test_invalid_typology_exits_2(tmp_path, capsys):
    base = _copy(tmp_path)
    y = base.with_suffix(".yaml")
    y.write_text(y.read_text().replace("weight: 2", "weight: 7"))
    with pytest.raises(SystemExit) as exc:
        main(["typologies", "validate", "--catalogue", str(tmp_path)])
    assert exc.value.code == 2
    assert "weight must be 1, 2 or 3" in capsys.readouterr().out
