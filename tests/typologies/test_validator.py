"""Each validator message says what to write."""

import copy
from pathlib import Path

import pytest

from txflags.catalogue import load_catalogue, read_yaml, typology_files
from txflags.errors import InputError
from txflags.typology_check import validate_files, validate_typology

CAT = load_catalogue()
BASE = CAT.get("remittance.many_senders_small")


def doc():
    return copy.deepcopy(BASE.doc)


def errors(d, path=BASE.path):
    return "\n".join(validate_typology(d, path))


def test_shipped_catalogue_is_valid():
    assert validate_files(typology_files(CAT.root)) == {}
    assert validate_typology(doc(), BASE.path) == []


def test_unknown_feature_lists_known():
    d = doc()
    d["detection"]["measures"]["n_txn"] = {"feature": "n_transactions"}
    msg = errors(d)
    assert "unknown feature 'n_transactions'" in msg and "new_counterparty_share" in msg


def test_default_outside_range():
    d = doc()
    d["parameters"]["n_min"]["default"] = 500
    assert "default 500 is outside its range [2, 200]" in errors(d)


def test_missing_field():
    d = doc()
    del d["sentence"]
    assert "missing field `sentence`" in errors(d)


def test_bad_id_format():
    d = doc()
    d["id"] = "Remittance-ManySenders"
    assert "must look like `family.name`" in errors(d)


def test_id_must_match_file():
    d = doc()
    d["id"] = "remittance.other_name"
    assert "does not match the file name" in errors(d)


def test_unknown_reference_and_column_and_param():
    d = doc()
    d["references"] = ["FC14", "NOPE"]
    d["detection"]["rows"].append({"column": "colour", "op": "==", "value": "red"})
    d["detection"]["where"].append({"measure": "n_txn", "op": ">=", "param": "missing"})
    msg = errors(d)
    assert "unknown reference key(s) ['NOPE']" in msg
    assert "unknown column 'colour'" in msg
    assert "unknown parameter 'missing'" in msg


def test_unknown_op_and_placeholder_and_band():
    d = doc()
    d["detection"]["where"][0]["op"] = "=~"
    d["sentence"] = "{n_txn} and {nope}"
    d["bands"][-1]["when"] = [{"measure": "n_txn", "op": ">", "value": 1}]
    msg = errors(d)
    assert "unknown op '=~'" in msg
    assert "unknown placeholder(s) ['nope']" in msg
    assert "last band must have no `when`" in msg


def test_fixture_missing(tmp_path):
    fam = tmp_path / "remittance"
    fam.mkdir()
    path = fam / "many_senders_small.yaml"
    path.write_text(BASE.path.read_text())
    probs = validate_files([path])
    assert any("fixture missing" in m for m in probs[path])


def test_hits_feature_needs_depends_on():
    d = read_yaml(CAT.get("lifestyle.upkeep_basket").path)
    del d["depends_on"]
    assert "list them in `depends_on`" in errors(d, CAT.get("lifestyle.upkeep_basket").path)


def test_override_range_checked():
    with pytest.raises(InputError, match="outside its range"):
        load_catalogue({"remittance.many_senders_small": {"senders_min": 1000}})
    with pytest.raises(InputError, match="has no parameter"):
        load_catalogue({"remittance.many_senders_small": {"sender_min": 8}})
    with pytest.raises(InputError, match="unknown typology"):
        load_catalogue({"remittance.nope": {"x": 1}})
    cat = load_catalogue({"remittance.many_senders_small": {"senders_min": 8}})
    assert cat.get("remittance.many_senders_small").params["senders_min"] == 8


def test_invalid_catalogue_raises(tmp_path):
    fam = tmp_path / "remittance"
    fam.mkdir()
    (fam / "x.yaml").write_text("id: remittance.x\n")
    with pytest.raises(InputError, match="missing field"):
        load_catalogue(root=Path(tmp_path))
