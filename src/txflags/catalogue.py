"""Load the typology catalogue (``typologies/<family>/<name>.yaml``), validate it, and apply
parameter overrides."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from txflags.errors import InputError

FIXTURE_SUFFIX = ".fixture.yaml"


@dataclass(frozen=True)
class Typology:
    """One typology: the parsed file plus the parameter values it will run with."""

    doc: dict[str, Any]
    path: Path | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.doc["id"]

    @property
    def family(self) -> str:
        return self.doc["family"]

    @property
    def version(self) -> int:
        return int(self.doc["version"])

    @property
    def weight(self) -> int:
        return int(self.doc["weight"])

    @property
    def indicator(self) -> str:
        return self.doc["indicator"]

    @property
    def title(self) -> str:
        return self.doc["title"]

    @property
    def roles(self) -> list[str]:
        return list(self.doc["roles"])

    @property
    def requires(self) -> list[str]:
        return list(self.doc.get("requires") or [])

    @property
    def depends_on(self) -> list[str]:
        return list(self.doc.get("depends_on") or [])

    @property
    def detection(self) -> dict[str, Any]:
        return self.doc["detection"]

    @property
    def fixture_path(self) -> Path | None:
        if self.path is None:
            return None
        return self.path.with_name(self.path.name[: -len(".yaml")] + FIXTURE_SUFFIX)

    def params_json(self) -> str:
        return json.dumps(self.params, sort_keys=True)

    def with_params(self, values: Mapping[str, Any]) -> Typology:
        """A copy running with ``values`` for some parameters (range-checked)."""
        specs = self.doc["parameters"]
        params = dict(self.params)
        for name, value in values.items():
            if name not in specs:
                raise InputError(
                    f"{self.id} has no parameter {name!r}; its parameters are: "
                    f"{', '.join(sorted(specs)) or '(none)'}"
                )
            params[name] = check_param_value(self.id, name, specs[name], value)
        return Typology(self.doc, self.path, params)


def check_param_value(tid: str, name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """``value`` if it fits parameter ``name``'s type and range, else InputError saying why."""
    default = spec.get("default")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(f"{tid}.{name} must be true or false, got {value!r}")
        return value
    if isinstance(default, list):
        if not isinstance(value, list):
            raise InputError(f"{tid}.{name} must be a list like {default!r}, got {value!r}")
        return value
    if isinstance(default, int | float):
        if isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                raise InputError(f"{tid}.{name} must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{tid}.{name} must be a number, got {value!r}")
        lo, hi = spec.get("min"), spec.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise InputError(f"{tid}.{name}={value} is outside its range [{lo}, {hi}]")
        return value
    return value


@dataclass(frozen=True)
class Catalogue:
    """The typologies to run, by id."""

    typologies: dict[str, Typology]
    root: Path | None = None

    def __iter__(self) -> Iterator[Typology]:
        return iter(self.typologies.values())

    def __len__(self) -> int:
        return len(self.typologies)

    def __contains__(self, tid: object) -> bool:
        return tid in self.typologies

    def get(self, tid: str) -> Typology:
        try:
            return self.typologies[tid]
        except KeyError:
            raise InputError(
                f"unknown typology {tid!r}; known: {', '.join(sorted(self.typologies))}"
            ) from None

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]] | None) -> Catalogue:
        """A copy with parameter overrides ``{typology_id: {param: value}}`` applied."""
        if not overrides:
            return self
        out = dict(self.typologies)
        for tid, values in overrides.items():
            out[tid] = self.get(tid).with_params(values)
        return Catalogue(out, self.root)

    def subset(self, ids: list[str]) -> Catalogue:
        """Only ``ids`` and, transitively, the typologies they depend on."""
        keep: dict[str, Typology] = {}
        todo = list(ids)
        while todo:
            t = self.get(todo.pop())
            if t.id not in keep:
                keep[t.id] = t
                todo.extend(t.depends_on)
        return Catalogue({k: v for k, v in self.typologies.items() if k in keep}, self.root)


def default_root() -> Path:
    """The catalogue shipped with txflags (found as package data)."""
    return Path(str(files("txflags.typologies")))


def typology_files(root: Path) -> list[Path]:
    """Every typology file under ``root`` (fixtures and the MCC group file excluded)."""
    return sorted(
        p
        for p in root.glob("*/*.yaml")
        if not p.name.endswith(FIXTURE_SUFFIX)
    )


#: libyaml's safe loader where PyYAML was built with it (the catalogue's 90 files parse in a
#: tenth of the pure-Python loader's time: a scan's start-up), else the pure-Python one.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file (safe loader), turning syntax errors into InputError."""
    try:
        return yaml.load(path.read_text(), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read YAML: {exc}") from exc


def defaults(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The default value of each parameter."""
    specs = doc.get("parameters") or {}
    return {k: copy.deepcopy(v.get("default")) for k, v in specs.items() if isinstance(v, dict)}


def load_catalogue(
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    root: str | Path | None = None,
    ids: list[str] | None = None,
) -> Catalogue:
    """Load and validate every typology under ``root`` (default: the shipped catalogue).

    Raises InputError listing every problem when any file is invalid; ``overrides`` are
    range-checked; ``ids`` keeps only those typologies and what they depend on.
    """
    from txflags.typology_check import validate_files

    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        raise InputError(f"catalogue directory {base} does not exist")
    paths = typology_files(base)
    problems = validate_files(paths)
    if problems:
        lines = [f"{p}: {m}" for p, ms in problems.items() for m in ms]
        raise InputError("invalid typology file(s):\n  " + "\n  ".join(lines))
    typs = {}
    for path in paths:
        doc = read_yaml(path)
        typs[doc["id"]] = Typology(doc, path, defaults(doc))
    cat = Catalogue(typs, base).with_overrides(overrides)
    return cat.subset(ids) if ids else cat


def load_overrides(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a profile file of overrides: ``{typology_id: {param: value}}`` (YAML or JSON)."""
    data = read_yaml(Path(path))
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{path}: write overrides as `typology_id: {{param: value}}` mappings")
    return data
