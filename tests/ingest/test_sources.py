"""Readers (CSV, gzip, Parquet, NDJSON, globs), rates, accounts, duplicate ids, bad files."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from txflags.errors import InputError
from txflags.ingest import ingest
from txflags.mapping import parse_mapping
from txflags.normalize import CHECK, SUSPECT, _confirm_duplicates

DATA = Path(__file__).parent / "data"
SIMPLE = {
    "columns": {
        "txn_id": "id",
        "ts": "ts",
        "account_id": "acct",
        "amount": {"column": "amt", "signed": True},
        "currency": "ccy",
        "channel": {"value": "card"},
    }
}
ROWS = [
    {"id": "1", "ts": "2026-01-05T10:00:00", "acct": "A", "amt": "-10.50", "ccy": "USD"},
    {"id": "2", "ts": "2026-01-06T10:00:00", "acct": "A", "amt": "20", "ccy": "PHP"},
    {"id": "3", "ts": "2026-01-07T10:00:00", "acct": "B", "amt": "5", "ccy": "EUR"},
]


def write_csv(path: Path, rows: list[dict]) -> Path:
    pl.DataFrame(rows).write_csv(path)
    return path


def test_csv_gzip_parquet_ndjson_give_the_same_rows(tmp_path):
    mapping = parse_mapping(SIMPLE)
    csv = write_csv(tmp_path / "t.csv", ROWS)
    gz = tmp_path / "t.csv.gz"
    gz.write_bytes(gzip.compress(csv.read_bytes()))
    pq = tmp_path / "t.parquet"
    pl.DataFrame(ROWS).write_parquet(pq)
    nd = tmp_path / "t.ndjson"
    pl.DataFrame(ROWS).write_ndjson(nd)
    frames = [ingest([p], mapping).kept.drop("source_file") for p in (csv, gz, pq, nd)]
    for other in frames[1:]:
        assert frames[0].equals(other)
    first = frames[0].row(0, named=True)
    assert first["direction"] == "out" and str(first["amount"]) == "10.50000000"


def test_many_files_glob_and_duplicates_across_files(tmp_path):
    mapping = parse_mapping(SIMPLE)
    write_csv(tmp_path / "day1.csv", ROWS[:2])
    write_csv(tmp_path / "day2.csv", ROWS[1:])  # row "2" again
    result = ingest([str(tmp_path / "day*.csv")], mapping)
    assert result.summary["rows_in"] == 4 and result.kept.height == 3
    dup = result.quarantine.row(0, named=True)
    assert dup["reason"] == "duplicate_id" and dup["source_file"].endswith("day2.csv")
    assert "day1.csv row 2" in dup["message"]
    assert [f["rows_in"] for f in result.summary["files"]] == [2, 2]
    # a folder works too
    assert ingest([tmp_path], mapping).kept.height == 3


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.booleans()), min_size=1,
                max_size=30))
def test_first_good_row_of_an_id_is_kept(tmp_path: Path, rows: list[tuple[str, bool]]) -> None:
    """An id whose first row is bad (amount zero) is kept from its first good row on."""
    frame = pl.DataFrame({
        "id": [i for i, _ in rows],
        "ts": ["2026-01-05T10:00:00"] * len(rows),
        "acct": ["A"] * len(rows),
        "amt": ["5" if ok else "0" for _, ok in rows],
        "ccy": ["USD"] * len(rows),
    })
    path = tmp_path / "t.csv"
    frame.write_csv(path)
    result = ingest([path], parse_mapping(SIMPLE))
    first_good: dict[str, int] = {}
    for n, (i, ok) in enumerate(rows, start=1):  # source rows count data rows from 1
        if ok:
            first_good.setdefault(i, n)
    kept = dict(zip(result.kept["txn_id"], result.kept["source_row"], strict=True))
    assert kept == first_good
    dups = result.quarantine.filter(pl.col("reason") == "duplicate_id")
    assert dups.height == sum(ok for _, ok in rows) - len(first_good)


def test_a_hash_collision_is_not_a_duplicate() -> None:
    """A suspect whose hash an earlier good row shares, but not its id, stays good."""
    frame = pl.DataFrame({
        "txn_id": ["x", "y", "x", "z"],
        CHECK: [None, None, None, 3],
        SUSPECT: [False, True, True, False],  # "y" as if it collided with "x"
    }, schema_overrides={CHECK: pl.Int32})
    out = _confirm_duplicates(frame, "txn_id", 9)
    assert out[CHECK].to_list() == [None, None, 9, 3]
    assert SUSPECT not in out.columns


def test_ndjson_with_a_broken_line_keeps_the_rest(tmp_path):
    nd = tmp_path / "t.ndjson"
    lines = [json.dumps(r) for r in ROWS]
    nd.write_text("\n".join([lines[0], "{not json", lines[1], lines[2]]) + "\n")
    result = ingest([nd], parse_mapping(SIMPLE))
    assert result.kept.height == 3
    bad = result.quarantine.row(0, named=True)
    assert bad["reason"] == "bad_row" and bad["source_row"] == 2


def test_dated_rates_and_missing_rate(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "currency,date,usd_per_unit\nUSD,2020-01-01,1\nPHP,2026-01-01,0.02\nPHP,2026-01-06,0.03\n"
    )
    result = ingest([write_csv(tmp_path / "t.csv", ROWS)], parse_mapping(SIMPLE), rates=rates)
    usd = dict(zip(result.kept["txn_id"], result.kept["amount_usd"], strict=True))
    assert usd == {"1": 10.5, "2": 20 * 0.03}
    missing = result.quarantine.row(0, named=True)
    assert missing["reason"] == "missing_rate" and "EUR" in missing["message"]


def test_timezone_column_and_accounts_mapping(tmp_path):
    rows = [
        dict(r, zone=z)
        for r, z in zip(ROWS, ["Asia/Manila", "Europe/London", "Nowhere/City"], strict=True)
    ]
    spec = {"columns": {**SIMPLE["columns"], "ts": {"column": "ts", "timezone_column": "zone"}}}
    result = ingest([write_csv(tmp_path / "t.csv", rows)], parse_mapping(spec))
    assert result.kept["ts"].dt.hour().to_list() == [2, 10]
    assert result.quarantine["reason"].to_list() == ["bad_timestamp"]
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "acct,cust,type,dob,opened\nA,C1,P,31/12/1990,01/02/2020\nB,C2,B,,01/02/2020\n"
        "C,C3,P,01/01/2990,01/02/2020\nA,C1,P,31/12/1990,01/02/2020\n"
    )
    amap = parse_mapping(
        {
            "kind": "accounts",
            "columns": {
                "account_id": "acct",
                "customer_id": "cust",
                "customer_type": {"column": "type", "map": {"P": "individual", "B": "business"}},
                "birth_date": {"column": "dob", "format": "%d/%m/%Y"},
                "opened_at": {"column": "opened", "format": "%d/%m/%Y"},
            },
        }
    )
    acc = ingest([accounts], amap)
    assert acc.kept["account_id"].to_list() == ["A", "B"]
    assert acc.quarantine["reason"].cast(pl.String).to_list() == [
        "impossible_value",
        "duplicate_id",
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"id;ts;acct;amt;ccy\n1;2026-01-01;A;1;USD\n", "';'-delimited"),
        (b"ident,ts,acct,amt,ccy\n1,2026-01-01,A,1,USD\n", "'id' (did you mean 'ident'?)"),
    ],
)
def test_bad_files_fail_with_exit_2_and_a_fix(tmp_path, cli, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(json.dumps(SIMPLE))
    with pytest.raises(InputError, match=re.escape(expected)):
        ingest([path], parse_mapping(SIMPLE))
    proc = cli("ingest", str(path), "-m", str(mapping), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert expected in proc.stderr.replace("\n", " ") and "Traceback" not in proc.stderr


def test_unreadable_parquet_and_missing_inputs(tmp_path, cli):
    fake = tmp_path / "x.parquet"
    fake.write_bytes(b"this is not parquet")
    with pytest.raises(InputError, match="not a readable Parquet"):
        ingest([fake], parse_mapping(SIMPLE))
    with pytest.raises(InputError, match="no file matches"):
        ingest([str(tmp_path / "nothing*.csv")], parse_mapping(SIMPLE))
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("columns: {txn_id: id}\n")
    shutil.copy(DATA / "messy_bank.csv", tmp_path / "m.csv")
    proc = cli("ingest", str(tmp_path / "m.csv"), "-m", str(bad_map), "-o", str(tmp_path / "o"))
    assert proc.returncode == 2 and "not mapped" in proc.stderr


def test_mapping_check_command(cli):
    proc = cli(
        "mapping", "check", str(DATA / "messy_bank.yaml"), str(DATA / "messy_bank.csv"), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["rows_checked"] == 17
    assert report["unmapped_codes"] == {"direction": {"XX": 1}}
    assert report["unused_source_columns"] == []
    columns = {c["column"]: c for c in report["columns"]}
    assert columns["amount"]["failed"] == 2 and columns["wallet_address"]["status"] == "not mapped"
    assert len(report["sample"]) == 5
    human = cli("mapping", "check", str(DATA / "messy_bank.yaml"), str(DATA / "messy_bank.csv"))
    assert human.returncode == 0 and "sample of parsed rows" in human.stderr
