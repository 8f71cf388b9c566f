"""Build small canonical frames for tests."""

from datetime import UTC, datetime

import polars as pl

from txflags.schema import Accounts, Transactions


def txns(rows: list[dict]) -> pl.DataFrame:
    out = []
    for i, r in enumerate(rows):
        r = {"direction": "out", "channel": "card", "currency": "USD", "amount_usd": 10.0, **r}
        r.setdefault("txn_id", f"t{i:04d}")
        r.setdefault("amount", str(r["amount_usd"]))
        if isinstance(r["ts"], str):
            r["ts"] = datetime.fromisoformat(r["ts"]).replace(tzinfo=UTC)
        out.append(r)
    cols = sorted({c for r in out for c in r})
    schema = {c: (pl.String if c == "amount" else Transactions.schema[c]) for c in cols}
    df = pl.DataFrame([{c: r.get(c) for c in cols} for r in out], schema=schema)
    return Transactions.conform(df).collect()


def accounts(rows: list[dict]) -> pl.DataFrame:
    rows = [{"customer_id": r["account_id"], "customer_type": "individual", **r} for r in rows]
    cols = sorted({c for r in rows for c in r})
    df = pl.DataFrame([{c: r.get(c) for c in cols} for r in rows],
                      schema={c: Accounts.schema[c] for c in cols})
    return Accounts.conform(df).collect()
