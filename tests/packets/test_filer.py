"""Filer configuration: the bundled example loads, and mistakes give messages that say the fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from txflags.errors import InputError
from txflags.packets.filer import EXAMPLE_PATH, FilerConfig


def example_dict() -> dict:
    return yaml.safe_load(FilerConfig.template_text())


def load(tmp_path: Path, data) -> FilerConfig:
    path = tmp_path / "filer.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return FilerConfig.load(path)


def test_example_loads_and_is_fictitious() -> None:
    cfg = FilerConfig.example()
    assert cfg.filer.legal_name == "Example Community Bank"
    assert cfg.filer.tin == "000000000" and cfg.filer.tin_type == "2"
    assert cfg.activity_institution == cfg.filer  # default: where activity occurred = filer
    assert cfg.transmitter.tcc and cfg.transmitter.phone == cfg.contact_office.phone
    assert cfg.goaml is not None and cfg.goaml.rentity_id == 1
    assert cfg.goaml.codes_for("5.0.2-uae").default_indicator == "FOWNB"
    assert cfg.goaml.codes_for("5.0.1").default_indicator == "-"
    assert cfg.goaml.codes.transmode_for("p2p") == "-"
    assert cfg.goaml.codes_for("5.0.2-uae").funds_for("cash") == "CASH"


def test_template_is_the_bundled_example() -> None:
    assert FilerConfig.template_text() == EXAMPLE_PATH.read_text(encoding="utf-8")
    assert FilerConfig.template_text().lstrip().startswith("#")


def test_config_is_frozen() -> None:
    cfg = FilerConfig.example()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.filer = cfg.filer  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.goaml.codes.transmode["card"] = "X"  # type: ignore[index, union-attr]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    data = example_dict()
    data["filer"]["legl_name"] = data["filer"].pop("legal_name")
    with pytest.raises(InputError, match="did you mean 'legal_name'"):
        load(tmp_path, data)
    data = example_dict()
    data["goaml"]["codes"]["transmod"] = {}
    with pytest.raises(InputError, match="did you mean 'transmode'"):
        load(tmp_path, data)


def test_missing_required_says_what_to_write(tmp_path: Path) -> None:
    data = example_dict()
    del data["filer"]["tin"]
    with pytest.raises(InputError, match=r"missing filer\.tin: write `tin: <value>`"):
        load(tmp_path, data)
    data = example_dict()
    del data["transmitter"]["tcc"]
    with pytest.raises(InputError, match="transmitter.tcc"):
        load(tmp_path, data)


@pytest.mark.parametrize(("section", "key", "value", "match"), [
    ("filer", "tin_type", "vat", "ein, ssn_itin, foreign"),
    ("filer", "primary_regulator", 5, "write one of"),
    ("filer", "organization_type", "bank", "write one of"),
    ("goaml", "rentity_id", 0, "rentity_id"),
])
def test_bad_values(tmp_path: Path, section, key, value, match) -> None:
    data = example_dict()
    data[section][key] = value
    with pytest.raises(InputError, match=match):
        load(tmp_path, data)


def test_goaml_needs_a_reporter(tmp_path: Path) -> None:
    data = example_dict()
    data["goaml"]["reporting_person"] = None
    data["goaml"]["reporting_user_code"] = None
    with pytest.raises(InputError, match="reporting_user_code"):
        load(tmp_path, data)
    data["goaml"]["reporting_user_code"] = "ME1"
    assert load(tmp_path, data).goaml.reporting_user_code == "ME1"


def test_goaml_section_is_optional(tmp_path: Path) -> None:
    data = example_dict()
    del data["goaml"]
    assert load(tmp_path, data).goaml is None


def test_activity_institution_overrides(tmp_path: Path) -> None:
    data = example_dict()
    data["activity_institution"] = {"legal_name": "Example Branch Bank", "tin": "000000001"}
    cfg = load(tmp_path, data)
    assert cfg.activity_institution.legal_name == "Example Branch Bank"
    assert cfg.activity_institution.address == cfg.filer.address


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read filer config"):
        FilerConfig.load(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="not valid YAML"):
        load(tmp_path, "filer: [unclosed")
    with pytest.raises(InputError, match="must be a mapping"):
        load(tmp_path, "- a list")
