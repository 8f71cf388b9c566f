"""The nightly pipeline: ingest a batch, append it to history, detect, score, write atomically.

Stages: ingest -> history -> detect -> risk -> models -> cases -> write. The models stage
(skipped with ``models=False``) scores the batch's local days with the anomaly-model suite kept
in the store, learns the account-days the batch completes, and folds the scores into the risk frame
(``scoring.combine``); the new state is committed with the run (``store.Store.commit``).
The cases stage groups flagged accounts with the accounts tied to them and matches the groups
to the store's cases (``txflags.cases``); its writes join the same commit.

``scan`` reads the lookback the catalogue needs (its longest window) from the store plus the new
batch, and reports hits whose window ends in the batch, so a hit is not raised again every night.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml

from txflags import __version__, risk
from txflags.atomic import _stage, json_writer, parquet_writer
from txflags.cases import CaseConfig, assemble, links
from txflags.cases.lifecycle import Night, plan_night
from txflags.cases.records import CasePlan
from txflags.catalogue import Catalogue, load_catalogue, read_yaml
from txflags.engine import detect
from txflags.errors import InputError
from txflags.features.local_time import local_time
from txflags.ingest import ingest, resolve_mapping
from txflags.partials import partial_key
from txflags.schema import Hits, Quarantine
from txflags.spans import lookback_days, window_of
from txflags.store import StagedAggregate, StagedModels, Store, discard, discard_models

if TYPE_CHECKING:  # the models (river, scikit-learn) are imported only when a scan uses them
    from txflags.models.nightly import NightlyConfig
    from txflags.models.suite import ModelSuite

STAGES = ("ingest", "history", "detect", "risk", "models", "cases", "write")

#: Alert columns the cases stage reads.
CASE_ALERT_COLUMNS = ("alert_id", "account_id", "typology_id", "family", "band", "weight",
                      "role_hint", "window_start", "window_end")

ALERT_EXTRA = pl.Schema({"alert_id": pl.String, "run_id": pl.String, "is_new": pl.Boolean})


@dataclass
class ScanResult:
    """What one scan produced and where it wrote it."""

    run_id: str
    alerts: pl.DataFrame
    risk: pl.DataFrame
    quarantine: pl.DataFrame
    summary: dict[str, Any]
    paths: dict[str, Path] = field(default_factory=dict)


# -- options ------------------------------------------------------------------------------------
def parse_sets(items: list[str] | None) -> dict[str, dict[str, Any]]:
    """``["family.name.param=value", ...]`` -> ``{"family.name": {"param": value}}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        tid, dot, param = key.strip().rpartition(".")
        if not sep or not dot or not tid or not param:
            raise InputError(
                f"--set {item!r}: write TYPOLOGY.param=value, e.g. cash.structuring.n_min=3"
            )
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        out.setdefault(tid, {})[param] = value
    return out


def load_profile(path: str | Path | None) -> tuple[dict[str, dict[str, Any]], risk.RiskConfig]:
    """A profile file: ``parameters: {typology_id: {param: value}}`` and ``risk: {...}``."""
    if path is None:
        return {}, risk.RiskConfig()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--profile {p} is not a file")
    data = read_yaml(p) or {}
    if not isinstance(data, dict) or set(data) - {"parameters", "risk", "models", "cases"}:
        raise InputError(
            f"{p}: a profile has the keys `parameters:`, `risk:`, `models:` and `cases:` only"
        )
    params = data.get("parameters") or {}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise InputError(f"{p}: write `parameters:` as `typology_id: {{param: value}}` mappings")
    return params, risk.RiskConfig.from_dict(data.get("risk"))


def load_models_profile(path: str | Path | None) -> dict[str, Any] | None:
    """The ``models:`` section of a profile file (None when absent); see ``NightlyConfig``."""
    if path is None or not Path(path).is_file():
        return None
    data = read_yaml(Path(path)) or {}
    section = data.get("models") if isinstance(data, dict) else None
    if section is not None and not isinstance(section, dict):
        raise InputError(f"{path}: write `models:` as a mapping (see README, Anomaly models)")
    return section


def load_cases_profile(path: str | Path | None) -> CaseConfig:
    """The ``cases:`` section of a profile file (defaults when absent); see ``CaseConfig``."""
    if path is None or not Path(path).is_file():
        return CaseConfig()
    data = read_yaml(Path(path)) or {}
    section = data.get("cases") if isinstance(data, dict) else None
    if section is not None and not isinstance(section, dict):
        raise InputError(f"{path}: write `cases:` as a mapping (see README, Cases)")
    return CaseConfig.from_dict(section)


def catalogue_hash(catalogue: Catalogue) -> str:
    """sha256 of the catalogue as written (every typology document, in id order)."""
    docs = [t.doc for t in sorted(catalogue, key=lambda t: t.id)]
    text = json.dumps(docs, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def merge_overrides(*layers: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Later layers win, parameter by parameter."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for tid, values in layer.items():
            out.setdefault(tid, {}).update(values)
    return out


# -- small helpers ------------------------------------------------------------------------------
def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def batch_hash(file_hashes: list[str], mapping_digest: str) -> str:
    """Content hash of a batch: its files' hashes (order-free) and the mapping."""
    h = hashlib.sha256(mapping_digest.encode())
    for fh in sorted(file_hashes):
        h.update(fh.encode())
    return h.hexdigest()


def alert_ids(hits: pl.DataFrame) -> pl.Series:
    """Stable id of each hit: sha256 of typology id, version, account and window (20 hex)."""
    keys = hits.select(
        pl.concat_str(
            [
                pl.col("typology_id"),
                pl.col("typology_version").cast(pl.String),
                pl.col("account_id"),
                pl.col("window_start").cast(pl.String).fill_null("-"),
                pl.col("window_end").cast(pl.String).fill_null("-"),
            ],
            separator="|",
        )
    ).to_series()
    # hashlib for an id that stays stable across Polars versions (alerts are few: one per hit)
    return pl.Series(
        "alert_id", [hashlib.sha256(k.encode()).hexdigest()[:20] for k in keys], pl.String
    )


def _local_day_range(kept: pl.DataFrame, accounts: pl.DataFrame) -> tuple[date, date]:
    zones = accounts["timezone"].drop_nulls().unique().to_list()
    tz = accounts.lazy().select("account_id", "timezone").unique("account_id")
    span = (kept["ts"].min(), kept["ts"].max())
    r = (
        kept.lazy()
        .select("account_id", "ts")
        .join(tz, on="account_id", how="left")
        .select(local_time(pl.col("ts"), pl.col("timezone"), zones, span).dt.date().alias("d"))
        .select(pl.col("d").min().alias("lo"), pl.col("d").max().alias("hi"))
        .collect()
    )
    return r["lo"][0], r["hi"][0]


class _Clock:
    def __init__(self, on_stage: Callable[[str], None] | None) -> None:
        self.seconds: dict[str, float] = {}
        self.on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_stage:
            self.on_stage(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


def _stage_outputs(files: dict[Path, Callable[[Path], None]]) -> list[tuple[Path, Path]]:
    staged: list[tuple[Path, Path]] = []
    try:
        for target, write in files.items():
            staged.append((_stage(target, write), target))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return staged


def _publisher(staged: list[tuple[Path, Path]]) -> tuple[Callable[[], Callable[[], None]], list]:
    """A function that renames staged outputs into place (keeping backups) and returns an undo."""
    backups: list[tuple[Path, Path | None]] = []

    def undo() -> None:
        for target, backup in reversed(backups):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)

    def publish() -> Callable[[], None]:
        try:
            for tmp, target in staged:
                backup = None
                if target.exists():
                    backup = target.with_name(f".{target.name}.bak-{os.getpid()}")
                    os.replace(target, backup)
                backups.append((target, backup))
                os.replace(tmp, target)
        except BaseException:
            undo()
            raise
        return undo

    return publish, backups


# -- the pipeline -------------------------------------------------------------------------------
def scan(
    inputs: list[str | Path],
    accounts: str | Path | list[str | Path],
    *,
    store: str | Path | Store,
    out: str | Path,
    mapping: str | Path = "canonical",
    accounts_mapping: str | Path = "canonical-accounts",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    risk_config: risk.RiskConfig | None = None,
    as_of: date | None = None,
    catalogue_root: str | Path | None = None,
    engine: str = "auto",
    on_stage: Callable[[str], None] | None = None,
    models: bool = True,
    models_config: NightlyConfig | Mapping[str, Any] | None = None,
    case_config: CaseConfig | None = None,
) -> ScanResult:
    """Run one night: ingest ``inputs``, append new rows to the store, detect, score, write.

    Writes OUT/alerts.parquet, risk.parquet, quarantine.parquet and summary.json, and records the
    run, the batch, its history parts, its alerts and (with ``models``) the anomaly models'
    new state in the store, all or nothing.
    """
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    cfg = risk_config or risk.RiskConfig()
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir} exists and is not a directory")
    st = store if isinstance(store, Store) else Store(store)
    catalogue = load_catalogue(overrides=overrides, root=catalogue_root)
    clock = _Clock(on_stage)
    mcfg = _models_config(models_config, cfg) if models else None

    with clock.stage("ingest"):
        tmap = resolve_mapping(mapping)
        if tmap.kind != "transactions":
            raise InputError(f"--mapping {tmap.name} is for {tmap.kind}, not transactions")
        amap = resolve_mapping(accounts_mapping)
        if amap.kind != "accounts":
            raise InputError(f"--accounts-mapping {amap.name} is for {amap.kind}, not accounts")
        txn = ingest(list(inputs), tmap)
        acc_inputs = accounts if isinstance(accounts, list) else [accounts]
        acc = ingest(list(acc_inputs), amap)
        if acc.kept.height == 0:
            raise InputError("no usable account rows: check --accounts and --accounts-mapping")
        files = [f["path"] for f in txn.summary["files"]]
        hashes = {f: file_sha256(f) for f in files}
        bhash = batch_hash(list(hashes.values()), tmap.digest)

    kept = txn.kept
    suite, state_from, replay = (_load_models(st, mcfg, bhash) if mcfg is not None
                                 else (None, None, False))
    with clock.stage("history"):
        seen = st.batch(bhash)
        if kept.height == 0:
            new_rows = kept
        elif seen is not None:
            new_rows = kept.clear()
        else:
            days = kept.select(pl.col("ts").dt.date().unique())["ts"].to_list()
            known = st.known_ids(days).collect()
            # a first sight of these days keeps every row (and no second copy of the batch)
            new_rows = kept.join(known, on="txn_id", how="anti") if known.height else kept
        parts = st.stage_history(new_rows, bhash)

    staged_models: StagedModels | None = None
    aggs: list[StagedAggregate] = []
    agg_info: dict[str, Any] = {}
    dep_hits: dict[str, tuple[pl.DataFrame, list[date]]] = {}
    dep_info: dict[str, Any] = {}
    try:
        with clock.stage("detect"):
            lookback = lookback_days(catalogue)
            if kept.height:
                report_from, last_local = _local_day_range(kept, acc.kept)
                as_of = as_of or kept["ts"].max().date()  # type: ignore[union-attr]
                start = report_from - timedelta(days=lookback + 1)
                # history read once (detection, cases and models each read it again, several
                # plans at a time): a night's lookback, not the batch, which is in memory
                history = st.history(start, as_of).collect()
                rows = pl.concat([history, new_rows], how="vertical", rechunk=False).lazy()
                # only the accounts active in the batch are reported (and featurised, with what
                # their results read of other accounts); each typology reads its own span
                partials = _stored_partials(st, catalogue, report_from, lookback)
                result = detect(
                    rows, acc.kept, catalogue, as_of=as_of, engine=engine,
                    report_from=report_from, focus=kept["account_id"].unique(),
                    partials=partials,
                    dependency_hits=lambda key, since, until=report_from: st.dependency_hits(
                        key, since, until),
                )
                dep_hits = result.dependency_hits
                hits, ran, skipped = result.hits, result.run, result.skipped
                if seen is None:  # a re-run batch adds nothing new to the aggregates
                    aggs = st.stage_aggregates(result.partials, bhash)
                agg_info = {
                    "typologies": len(result.partials),
                    "days_read": sum(len(days) for _, days in partials.values()),
                    "days_computed": sum(len(days) for _, days in result.partials.values()),
                    "days_saved": len(aggs),
                }
                needed = sorted({d for t in catalogue for d in t.depends_on} & set(ran))
                dep_info = {
                    "from_store": result.dependencies_stored,
                    "from_rows": [d for d in needed if d not in result.dependencies_stored],
                    "days_evaluated": sum(len(days) for _, days in dep_hits.values()),
                }
            else:
                report_from, start = None, None
                hits, ran, skipped = Hits.empty(), [], {}
            hits = hits.with_columns(alert_ids(hits))
            stored = st.alerts(
                since=(as_of - timedelta(days=cfg.window_days)) if as_of else None
            )
            known = stored.select("alert_id", "first_batch")
            hits = hits.join(known, on="alert_id", how="left").with_columns(
                (pl.col("first_batch").is_null() | (pl.col("first_batch") == bhash)).alias(
                    "is_new"
                ),
                pl.lit(run_id).alias("run_id"),
            )
            alerts = (
                hits.filter(pl.col("window_end").is_not_null() | pl.col("is_new"))
                .select(*ALERT_EXTRA.names(), *Hits.names)
                .sort("typology_id", "account_id", "window_end")
            )

        with clock.stage("risk"):
            context = stored.join(hits.select("alert_id"), on="alert_id", how="anti")
            cols = ["account_id", "typology_id", "family", "band", "weight", "role_hint",
                    "sentence", "window_end"]
            pool = pl.concat([hits.select(cols), context.select(cols)], how="vertical_relaxed")
            risk_frame = risk.score(pool, as_of, cfg) if as_of else risk.empty()

        with clock.stage("models"):
            minfo: dict[str, Any] = {"enabled": suite is not None}
            if suite is not None and mcfg is not None:
                from txflags.models.nightly import run_night
                from txflags.scoring import combine

                nights_before = suite.nights_
                if kept.height and report_from is not None:
                    covered = datetime.combine(
                        kept["ts"].max().date() + timedelta(days=1),  # type: ignore[union-attr]
                        datetime.min.time(), tzinfo=UTC,
                    )
                    night = run_night(
                        suite, rows, acc.kept, start=report_from, end=last_local,
                        covered_until=covered, focus=risk_frame["account_id"], batch=bhash,
                    )
                    n_rule = risk_frame.height
                    risk_frame = combine(risk_frame, night.scores, mcfg.combine)
                    minfo.update(night.info, accounts_reported_by_models=risk_frame.height - n_rule)
                    if night.learned and not replay:
                        staged_models = st.stage_models(
                            run_id, lambda d, s=suite: s.state_writers(d, {
                                "run_id": run_id, "learned_batch": bhash,
                                "parent": state_from.name if state_from else None,
                            })
                        )
                minfo.update(_models_summary(suite, mcfg, state_from, replay, nights_before,
                                             staged_models))

        with clock.stage("cases"):
            pool = pl.concat(
                [hits.select(CASE_ALERT_COLUMNS), context.select(CASE_ALERT_COLUMNS)],
                how="vertical_relaxed",
            )
            case_plan = _plan_cases(st, rows if kept.height else None, acc.kept, risk_frame,
                                    pool, as_of, run_id, cfg, case_config or CaseConfig(),
                                    {t.id: tuple(t.roles) for t in catalogue})

        with clock.stage("write"):
            quarantine = pl.concat(
                [Quarantine.conform(txn.quarantine), Quarantine.conform(acc.quarantine)]
            ).collect()
            summary = _summary(
                run_id, bhash, txn.summary, acc.summary, seen, kept.height, new_rows.height,
                ran, skipped, alerts, risk_frame, as_of, report_from, start, lookback, clock,
            )
            summary["models"] = minfo
            summary["daily_aggregates"] = agg_info
            summary["dependency_hits"] = dep_info
            summary["cases"] = {"by_kind": case_plan.counts(),
                                "cases_touched": len(case_plan.cases)}
            paths = {
                "alerts": out_dir / "alerts.parquet",
                "risk": out_dir / "risk.parquet",
                "quarantine": out_dir / "quarantine.parquet",
                "summary": out_dir / "summary.json",
            }
            staged = _stage_outputs(
                {
                    paths["alerts"]: parquet_writer(alerts),
                    paths["risk"]: parquet_writer(risk_frame),
                    paths["quarantine"]: parquet_writer(quarantine),
                    paths["summary"]: json_writer(summary),
                }
            )
    except BaseException:
        discard(parts)
        discard(aggs)
        discard_models(staged_models)
        raise

    publish, backups = _publisher(staged)
    run_record = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "status": "completed",
        "as_of": as_of,
        "report_from": report_from,
        "batch_hash": bhash,
        "inputs": [{"path": str(f), "sha256": h} for f, h in hashes.items()],
        "mapping_digest": tmap.digest,
        "accounts_mapping_digest": amap.digest,
        "catalogue": {t.id: t.version for t in catalogue},
        "catalogue_hash": catalogue_hash(catalogue),
        "overrides": {k: dict(v) for k, v in (overrides or {}).items()},
        "risk_config": cfg.as_dict(),
        "counts": summary["counts"],
    }
    batch_record = None
    if seen is None and kept.height:
        batch_record = {
            "batch_hash": bhash,
            "run_id": run_id,
            "appended_at": datetime.now(UTC).isoformat(),
            "rows_in_batch": kept.height,
            "rows_appended": new_rows.height,
            "rows_skipped": kept.height - new_rows.height,
            "first_day": kept["ts"].min().date(),  # type: ignore[union-attr]
            "last_day": kept["ts"].max().date(),  # type: ignore[union-attr]
        }
    try:
        st.commit(run_record, batch_record, parts, alerts, publish, models=staged_models,
                  aggregates=aggs, extra=case_plan.write, dependency_hits=dep_hits)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for _, backup in backups:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return ScanResult(run_id, alerts, risk_frame, quarantine, summary, paths)


def _stored_partials(
    st: Store, catalogue: Catalogue, report_from: date, lookback: int
) -> dict[str, tuple[pl.LazyFrame | None, set[date]]]:
    """Per aggregate key: the stored daily parts of the days before ``report_from`` that the
    typology's window reaches, and which days those are."""
    keys = {t.id: k for t in catalogue if (k := partial_key(t)) is not None}
    before = report_from - timedelta(days=1)
    covered = st.aggregate_days(keys.values(), report_from - timedelta(days=lookback), before)
    out: dict[str, tuple[pl.LazyFrame | None, set[date]]] = {}
    for tid, key in keys.items():
        lo = report_from - timedelta(days=(window_of(catalogue.get(tid)) or 1) - 1)
        days = {d for d in covered[key] if d >= lo}
        out[key] = (st.aggregates(key, lo, before) if days else None, days)
    return out


def _models_config(
    models_config: NightlyConfig | Mapping[str, Any] | None, cfg: risk.RiskConfig
) -> NightlyConfig:
    from txflags.models.nightly import NightlyConfig

    if isinstance(models_config, NightlyConfig):
        return models_config
    return NightlyConfig.from_dict(models_config, risk_threshold=cfg.threshold)


def _plan_cases(
    st: Store, rows: pl.LazyFrame | None, accounts: pl.DataFrame, risk_frame: pl.DataFrame,
    pool: pl.DataFrame, as_of: date | None, run_id: str, cfg: risk.RiskConfig,
    case_cfg: CaseConfig, typology_roles: Mapping[str, tuple[str, ...]],
) -> CasePlan:
    """Group tonight's flagged accounts and plan their case writes (nothing written yet)."""
    if rows is None or as_of is None or risk_frame.filter("flagged").height == 0:
        return CasePlan()
    since = datetime.combine(as_of - timedelta(days=cfg.window_days), datetime.min.time(),
                             tzinfo=UTC)
    edges = links(rows.filter(pl.col("ts") >= since), accounts, risk_frame["account_id"],
                  max_group=case_cfg.max_group)
    groups = assemble(risk_frame, edges, case_cfg)
    night = Night(as_of, run_id, risk_frame, pool, accounts,
                  frozenset(cfg.high_weight), typology_roles)
    with st.connect() as db:
        return plan_night(groups, night, db, case_cfg)


def _load_models(
    st: Store, cfg: NightlyConfig, bhash: str
) -> tuple[ModelSuite, Path | None, bool]:
    """(suite, folder it was loaded from, replay?). Re-running the batch the current state
    learned loads that state's parent and replays the night exactly (nothing is saved)."""
    from txflags.models.nightly import load_suite
    from txflags.models.suite import SUITE_FILE

    current = st.models_dir()
    state_from, replay = current, False
    if current is not None:
        meta = _read_json(current / SUITE_FILE)
        if meta.get("learned_batch") == bhash:
            state_from, replay = st.models_parent(), True
    where = state_from if state_from is not None else st.path / "models" / "-none-"
    return load_suite(where, cfg, store_hint=str(st.path)), state_from, replay


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _models_summary(
    suite: ModelSuite, cfg: NightlyConfig, state_from: Path | None, replay: bool,
    nights_before: int, staged: StagedModels | None,
) -> dict[str, Any]:
    """The models part of summary.json (what ran, which state, what it learned)."""
    from txflags.models.daily import FEATURE_VERSION
    from txflags.models.state import STATE_FORMAT

    info = suite.info()
    return {
        "used": info["models"],
        "config": cfg.as_dict(),
        "state_version": {"txflags_version": __version__, "feature_version": FEATURE_VERSION,
                          "state_format": STATE_FORMAT},
        "state_loaded": state_from.name if state_from else None,
        "replayed_last_batch": replay,
        "nights_learned_before": nights_before,
        "nights_learned": info["nights_learned"],
        "days_learned": info["days_learned"],
        "covered_until": info["covered_until"],
        "accounts_tracked": info["accounts_tracked"],
        "state_saved": staged.target.name if staged else None,
    }


def _summary(
    run_id: str,
    bhash: str,
    tsum: dict[str, Any],
    asum: dict[str, Any],
    seen: dict[str, Any] | None,
    kept: int,
    appended: int,
    ran: list[str],
    skipped: dict[str, str],
    alerts: pl.DataFrame,
    risk_frame: pl.DataFrame,
    as_of: date | None,
    report_from: date | None,
    lookback_start: date | None,
    lookback: int,
    clock: _Clock,
) -> dict[str, Any]:
    counts = {
        "rows_in": tsum["rows_in"],
        "rows_kept": tsum["rows_kept"],
        "rows_quarantined": tsum["rows_quarantined"],
        "accounts_in": asum["rows_in"],
        "accounts_kept": asum["rows_kept"],
        "accounts_quarantined": asum["rows_quarantined"],
        "history_rows_appended": appended,
        "history_rows_skipped": kept - appended,
        "alerts": alerts.height,
        "alerts_new": int(alerts["is_new"].sum()),
        "accounts_with_signal": risk_frame.height,
        "accounts_flagged": int(risk_frame["flagged"].sum()),
    }
    return {
        "txflags_version": __version__,
        "run_id": run_id,
        "batch_hash": bhash,
        "batch_already_appended": seen is not None,
        "batch_first_run_id": seen["run_id"] if seen else run_id,
        "reconciled": tsum["rows_in"] == tsum["rows_kept"] + tsum["rows_quarantined"],
        "counts": counts,
        "quarantine_reasons": tsum["quarantine_reasons"],
        "mapping": tsum["mapping"],
        "accounts_mapping": asum["mapping"],
        "as_of": as_of,
        "report_from": report_from,
        "lookback_days": lookback,
        "lookback_from": lookback_start,
        "typologies_run": ran,
        "typologies_skipped": skipped,
        "seconds": dict(clock.seconds),
    }
