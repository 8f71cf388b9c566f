"""Validate typology files: every message says what to write instead."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from txflags import features
from txflags.catalogue import FIXTURE_SUFFIX, read_yaml
from txflags.errors import InputError
from txflags.features.conditions import NO_VALUE, OPS, SUBJECTS, walk
from txflags.features.context import ACCOUNT_COLUMNS, row_columns
from txflags.features.mcc import mcc_groups
from txflags.schema import Accounts, Transactions
from txflags.typology_format import (
    BANDS,
    DETECTION_KEYS,
    FAMILIES,
    GOAML_RE,
    ID_RE,
    INDICATOR_RE,
    OPTIONAL_FIELDS,
    REFERENCES,
    REQUIRED_FIELDS,
    ROLES,
    SCOPES,
    SENTENCE_FIELDS,
    STATUSES,
)

#: Columns a typology may list under ``requires``.
OPTIONAL_COLUMNS = sorted(
    {c.name for c in Transactions.columns if not c.required}
    | {c.name for c in Accounts.columns if not c.required}
)


def _list(xs: Iterable[str]) -> str:
    return ", ".join(sorted(xs))


class _Checker:
    def __init__(self, doc: Mapping[str, Any], path: Path | None) -> None:
        self.doc = doc
        self.path = path
        self.errors: list[str] = []
        self.params: dict[str, Any] = {}

    def err(self, msg: str) -> None:
        self.errors.append(msg)

    # -- header ---------------------------------------------------------------------------
    def header(self) -> None:
        d = self.doc
        for key in REQUIRED_FIELDS:
            if key not in d:
                self.err(f"missing field `{key}`")
        unknown = set(d) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
        if unknown:
            self.err(
                f"unknown field(s) {_list(unknown)}; allowed: "
                f"{_list(REQUIRED_FIELDS + OPTIONAL_FIELDS)}"
            )
        tid = d.get("id")
        if tid is not None:
            if not isinstance(tid, str) or not ID_RE.match(tid):
                self.err(f"id {tid!r} must look like `family.name` in lower snake case")
            else:
                fam, name = tid.split(".", 1)
                if d.get("family") is not None and fam != d.get("family"):
                    self.err(f"id {tid!r} must start with its family `{d.get('family')}.`")
                if self.path is not None:
                    if self.path.stem != name:
                        self.err(f"id {tid!r} does not match the file name: write `{fam}."
                                 f"{self.path.stem}` or rename the file to {name}.yaml")
                    if self.path.parent.name != fam:
                        self.err(f"file must be in the folder `{fam}/` to match its id")
        fam = d.get("family")
        if fam is not None and fam not in FAMILIES:
            self.err(f"family {fam!r} unknown; write one of: {_list(FAMILIES)}")
        ver = d.get("version")
        if ver is not None and (not isinstance(ver, int) or isinstance(ver, bool) or ver < 1):
            self.err(f"version must be a whole number >= 1 (bump it on logic change), got {ver!r}")
        if "status" in d and d["status"] not in STATUSES:
            self.err(f"status {d['status']!r} unknown; write one of: {', '.join(STATUSES)}")
        for key in ("weight", "level"):
            if key in d and d[key] not in (1, 2, 3):
                self.err(f"{key} must be 1, 2 or 3 (context, notable, strong), got {d[key]!r}")
        roles = d.get("roles")
        if roles is not None:
            if not isinstance(roles, list) or not roles:
                self.err(f"roles must be a non-empty list of: {', '.join(ROLES)}")
            else:
                bad = [r for r in roles if r not in ROLES]
                if bad:
                    self.err(f"unknown role(s) {bad}; write any of: {', '.join(ROLES)}")
        ind = d.get("indicator")
        if ind is not None and (not isinstance(ind, str) or not INDICATOR_RE.match(ind)):
            self.err(f"indicator {ind!r} must be a TYPOLOGIES.md code like HT-REM-01")
        refs = d.get("references")
        if refs is not None:
            if not isinstance(refs, list) or not refs:
                self.err("references must be a non-empty list of source keys (TYPOLOGIES.md §0)")
            else:
                bad = [r for r in refs if r not in REFERENCES]
                if bad:
                    self.err(f"unknown reference key(s) {bad}; known: {_list(REFERENCES)}")
        fps = d.get("false_positives")
        if fps is not None and (
            not isinstance(fps, list) or not fps or not all(isinstance(x, str) for x in fps)
        ):
            self.err("false_positives must be a non-empty list of sentences")
        subs = d.get("fincen_subtypes")
        if subs is not None and (
            not isinstance(subs, list) or not all(isinstance(x, int) for x in subs)
        ):
            self.err("fincen_subtypes must be a list of SAR SuspiciousActivitySubtypeID numbers")
        goaml = d.get("goaml_indicators")
        if goaml is not None and (
            not isinstance(goaml, list)
            or not all(isinstance(x, str) and GOAML_RE.match(x) for x in goaml)
        ):
            self.err("goaml_indicators must be a list of goAML indicator codes like FRDMR")
        req = d.get("requires") or []
        if not isinstance(req, list):
            self.err("requires must be a list of column names")
        else:
            bad = [c for c in req if c not in OPTIONAL_COLUMNS]
            if bad:
                self.err(f"requires: unknown optional column(s) {bad}; "
                         f"known: {_list(OPTIONAL_COLUMNS)}")
        deps = d.get("depends_on") or []
        if not isinstance(deps, list) or not all(isinstance(x, str) and ID_RE.match(x)
                                                 for x in deps):
            self.err("depends_on must be a list of typology ids like lodging.motel_stacking")

    # -- parameters -----------------------------------------------------------------------
    def parameters(self) -> None:
        specs = self.doc.get("parameters")
        if specs is None:
            return
        if not isinstance(specs, dict):
            self.err("parameters must map each name to {default, min, max, description}")
            return
        for name, spec in specs.items():
            if not isinstance(spec, dict) or "default" not in spec:
                self.err(f"parameter {name}: write `{{default: ..., min: ..., max: ..., "
                         f"description: ...}}`")
                continue
            if not spec.get("description"):
                self.err(f"parameter {name}: add a `description`")
            extra = set(spec) - {"default", "min", "max", "description"}
            if extra:
                self.err(f"parameter {name}: unknown key(s) {_list(extra)}; "
                         "allowed: default, min, max, description")
            dv = spec["default"]
            self.params[name] = dv
            if isinstance(dv, int | float) and not isinstance(dv, bool):
                lo, hi = spec.get("min"), spec.get("max")
                if lo is None or hi is None:
                    self.err(f"parameter {name}: a number needs `min` and `max`")
                elif not lo <= hi:
                    self.err(f"parameter {name}: min {lo} is above max {hi}")
                elif not lo <= dv <= hi:
                    self.err(f"parameter {name}: default {dv} is outside its range [{lo}, {hi}]"
                             f"; change the default or the range")
            elif not isinstance(dv, list | bool | str):
                self.err(f"parameter {name}: default must be a number, list, text or true/false")

    # -- detection ------------------------------------------------------------------------
    def _value_side(self, cond: Mapping[str, Any], where: str, names: set[str]) -> None:
        op = cond.get("op")
        if op not in OPS:
            self.err(f"{where}: unknown op {op!r}; write one of: {', '.join(OPS)}")
            return
        sides = [k for k in ("value", "param", "ref") if k in cond]
        if op in NO_VALUE:
            if sides:
                self.err(f"{where}: op {op} takes no value/param/ref")
            return
        if len(sides) != 1:
            self.err(f"{where}: give exactly one of `value`, `param` or `ref`")
            return
        if "param" in cond and cond["param"] not in self.params:
            self.err(f"{where}: unknown parameter {cond['param']!r}; "
                     f"declared: {_list(self.params) or '(none)'}")
        if "ref" in cond and cond["ref"] not in names:
            self.err(f"{where}: unknown ref {cond['ref']!r}; known: {_list(names)}")
        scale = cond.get("scale")
        if isinstance(scale, Mapping):
            if scale.get("param") not in self.params:
                self.err(f"{where}: scale names unknown parameter {scale.get('param')!r}")
        elif scale is not None and not isinstance(scale, int | float):
            self.err(f"{where}: scale must be a number or {{param: name}}")
        if op in ("in_group", "not_in_group") and cond.get("value") not in mcc_groups():
            self.err(f"{where}: unknown MCC group {cond.get('value')!r}; "
                     f"known: {_list(mcc_groups())}")

    def conditions(self, conds: Any, subject: str, names: set[str], where: str) -> None:
        if conds is None:
            return
        if not isinstance(conds, list | dict):
            self.err(f"{where}: write a list of conditions")
            return
        for i, leaf in enumerate(walk(conds)):
            at = f"{where}[{i}]"
            if not isinstance(leaf, Mapping):
                self.err(f"{at}: a condition must be a mapping like "
                         f"{{{subject}: NAME, op: '>=', param: NAME}}")
                continue
            keys = [k for k in SUBJECTS if k in leaf]
            if keys != [subject]:
                self.err(f"{at}: name what is tested with `{subject}:`")
                continue
            if leaf[subject] not in names:
                kind = "column" if subject == "column" else "measure"
                self.err(f"{at}: unknown {kind} {leaf[subject]!r}; known: {_list(names)}")
            self._value_side(leaf, at, names)

    def _feature(self, spec: Any, kinds: tuple[str, ...], where: str, cols: set[str]) -> None:
        if not isinstance(spec, Mapping) or "feature" not in spec:
            self.err(f"{where}: write `{{feature: NAME, args: {{...}}}}`")
            return
        name = spec["feature"]
        known = sorted(n for n in features.names() if features.get(n).kind in kinds)
        if name not in features.FEATURES or features.get(name).kind not in kinds:
            self.err(f"{where}: unknown feature {name!r}; known: {', '.join(known)}")
            return
        feat = features.get(name)
        args = spec.get("args") or {}
        if not isinstance(args, Mapping):
            self.err(f"{where}: args must be a mapping")
            return
        bad = set(args) - set(feat.args)
        if bad:
            self.err(f"{where}: feature {name} has no argument(s) {_list(bad)}; "
                     f"it takes: {', '.join(feat.args) or '(none)'}")
        missing = [a for a in feat.required_args if a not in args]
        if missing:
            self.err(f"{where}: feature {name} needs argument(s) {', '.join(missing)}")
        for key, val in args.items():
            if isinstance(val, Mapping) and set(val) == {"param"}:
                if val["param"] not in self.params:
                    self.err(f"{where}: args.{key} names unknown parameter {val['param']!r}")
            elif key == "where":
                self.conditions(val, "column", cols, f"{where}.args.where")
            elif key in ("column", "key", "of", "lag", "usd"):
                pool = set(ACCOUNT_COLUMNS) if feat.kind == "account" else cols
                if val not in pool:
                    self.err(f"{where}: args.{key} unknown column {val!r}; known: {_list(pool)}")
        if feat.needs_hits and not self.doc.get("depends_on"):
            self.err(f"{where}: feature {name} reads earlier hits: list them in `depends_on`")

    def detection(self) -> set[str]:
        det = self.doc.get("detection")
        if det is None:
            return set()
        if not isinstance(det, dict):
            self.err("detection must be a mapping")
            return set()
        bad = set(det) - set(DETECTION_KEYS)
        if bad:
            allowed = ", ".join(DETECTION_KEYS)
            self.err(f"detection: unknown key(s) {_list(bad)}; allowed: {allowed}")
        scope = det.get("scope", "window")
        if scope not in SCOPES:
            self.err(f"detection.scope must be one of: {', '.join(SCOPES)}")
        wd = det.get("window_days")
        if wd is not None and not (
            (isinstance(wd, int) and wd > 0)
            or (isinstance(wd, Mapping) and wd.get("param") in self.params)
        ):
            self.err("detection.window_days must be a positive number of days or {param: NAME}")
        cols = set(row_columns())
        derive = det.get("derive") or {}
        if scope == "account" and (derive or det.get("rows") or wd is not None):
            self.err("detection: scope `account` takes no derive, rows or window_days")
        if not isinstance(derive, Mapping):
            self.err("detection.derive must map new column names to {feature, args}")
            derive = {}
        for name, spec in derive.items():
            self._feature(spec, ("derived",), f"detection.derive.{name}", cols)
            cols.add(name)
        self.conditions(det.get("rows"), "column", cols, "detection.rows")
        measures = det.get("measures")
        kinds = ("account",) if scope == "account" else ("agg", "account")
        if not isinstance(measures, Mapping) or not measures:
            self.err("detection.measures must name at least one measure: "
                     "{name: {feature: NAME, args: {...}}}")
            measures = {}
        for name, spec in measures.items():
            self._feature(spec, kinds, f"detection.measures.{name}", cols)
        mnames = set(measures)
        if not det.get("where"):
            self.err("detection.where must list at least one threshold condition")
        self.conditions(det.get("where"), "measure", mnames, "detection.where")
        rank = det.get("rank_by")
        if rank is not None and rank not in mnames:
            self.err(f"detection.rank_by {rank!r} is not a measure; known: {_list(mnames)}")
        return mnames

    # -- bands and sentence ---------------------------------------------------------------
    def bands(self, mnames: set[str]) -> None:
        bands = self.doc.get("bands")
        if bands is None:
            return
        if not isinstance(bands, list) or not bands:
            self.err("bands must be a list of {band, when, reason}, the last without `when`")
            return
        for i, b in enumerate(bands):
            if not isinstance(b, Mapping):
                self.err(f"bands[{i}] must be a mapping {{band, when, reason}}")
                continue
            if b.get("band") not in BANDS:
                self.err(f"bands[{i}].band must be one of: {', '.join(BANDS)}")
            if not b.get("reason"):
                self.err(f"bands[{i}]: add a `reason` in words")
            if "when" in b:
                self.conditions(b["when"], "measure", mnames, f"bands[{i}].when")
        if isinstance(bands[-1], Mapping) and "when" in bands[-1]:
            self.err("the last band must have no `when` (it is the default)")

    def sentence(self, mnames: set[str]) -> None:
        s = self.doc.get("sentence")
        if s is None:
            return
        if not isinstance(s, str) or not s.strip():
            self.err("sentence must be a text template like '{n_txn} transfers to {account_id}'")
            return
        allowed = mnames | set(self.params) | set(SENTENCE_FIELDS)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(s) if f is not None]
        except ValueError as exc:
            self.err(f"sentence: bad template ({exc})")
            return
        bad = [f for f in fields if f not in allowed]
        if bad:
            self.err(f"sentence: unknown placeholder(s) {bad}; use: {_list(allowed)}")

    def fixture(self) -> None:
        if self.path is None:
            return
        fx = self.path.with_name(self.path.stem + FIXTURE_SUFFIX)
        if not fx.exists():
            self.err(f"fixture missing: write {fx.name} beside it (accounts, transactions, "
                     "expect: {account: hit|ok})")

    def run(self) -> list[str]:
        if not isinstance(self.doc, Mapping):
            return ["a typology file must be a YAML mapping"]
        self.header()
        self.parameters()
        mnames = self.detection()
        self.bands(mnames)
        self.sentence(mnames)
        self.fixture()
        return self.errors


def validate_typology(doc: Any, path: Path | None = None) -> list[str]:
    """Problems with one parsed typology (empty: valid)."""
    return _Checker(doc, path).run()


def _cycles(docs: dict[str, Mapping[str, Any]]) -> list[str]:
    state: dict[str, int] = {}
    out: list[str] = []

    def visit(tid: str, trail: list[str]) -> None:
        if state.get(tid) == 2:
            return
        if state.get(tid) == 1:
            out.append(" -> ".join([*trail, tid]))
            return
        state[tid] = 1
        for dep in docs[tid].get("depends_on") or []:
            if dep in docs:
                visit(dep, [*trail, tid])
        state[tid] = 2

    for tid in docs:
        visit(tid, [])
    return out


def validate_files(paths: Iterable[Path]) -> dict[Path, list[str]]:
    """Problems per file (only files with problems are listed), across-file checks included:
    unique ids, depends_on targets exist, no dependency cycles."""
    problems: dict[Path, list[str]] = {}
    docs: dict[str, Mapping[str, Any]] = {}
    where: dict[str, Path] = {}
    for path in paths:
        try:
            doc = read_yaml(Path(path))
        except InputError as exc:
            problems[Path(path)] = [str(exc)]
            continue
        errs = validate_typology(doc, Path(path))
        if isinstance(doc, Mapping) and isinstance(doc.get("id"), str):
            if doc["id"] in docs:
                errs.append(f"duplicate id {doc['id']!r} (also in {where[doc['id']]})")
            docs[doc["id"]] = doc
            where[doc["id"]] = Path(path)
        if errs:
            problems[Path(path)] = errs
    for tid, doc in docs.items():
        for dep in doc.get("depends_on") or []:
            if dep not in docs:
                problems.setdefault(where[tid], []).append(
                    f"depends_on: unknown typology {dep!r}; known: {_list(docs)}"
                )
    for cyc in _cycles(docs):
        first = cyc.split(" -> ")[0]
        problems.setdefault(where[first], []).append(f"depends_on cycle: {cyc}")
    return problems
