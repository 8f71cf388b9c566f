"""ISO 20022 bank-to-customer statements (camt.053) flattened to rows for the usual mapping.

One row per transaction detail (``TxDtls``) of each entry (``Ntry``), or one per entry when it
has none. The counterparty is the debtor of a credit and the creditor of a debit. Any camt.053
version is read (namespaces are ignored); the bundled mapping ``camt053`` maps the columns below
onto the canonical schema. XML is parsed incrementally, one statement entry at a time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl

from txflags.errors import InputError

COLUMNS = (
    "Entry Id",
    "Account",
    "Account Currency",
    "Account Owner",
    "Statement Id",
    "Booking Date",
    "Value Date",
    "CdtDbtInd",
    "Status",
    "Amount",
    "Currency",
    "Domain",
    "Family",
    "SubFamily",
    "Proprietary Code",
    "EndToEndId",
    "Counterparty Name",
    "Counterparty Account",
    "Counterparty Country",
    "Remittance Info",
    "Additional Info",
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(node: ET.Element | None, path: str) -> ET.Element | None:
    """Namespace-free path lookup: ``"Acct/Id/IBAN"``."""
    for part in path.split("/"):
        if node is None:
            return None
        node = next((c for c in node if _local(c.tag) == part), None)
    return node


def _text(node: ET.Element | None, *paths: str) -> str | None:
    for path in paths:
        found = _find(node, path)
        if found is not None and found.text and found.text.strip():
            return found.text.strip()
    return None


def _party(details: ET.Element | None, role: str) -> tuple[str | None, str | None, str | None]:
    """(name, account, country) of the debtor or creditor of a transaction detail."""
    parties = _find(details, "RltdPties")
    name = _text(parties, f"{role}/Nm", f"{role}/Pty/Nm")
    account = _text(parties, f"{role}Acct/Id/IBAN", f"{role}Acct/Id/Othr/Id")
    country = _text(parties, f"{role}/PstlAdr/Ctry", f"{role}/Pty/PstlAdr/Ctry")
    return name, account, country


def _rows(entry: ET.Element, account: dict[str, str | None]) -> list[dict[str, str | None]]:
    amount = _find(entry, "Amt")
    side = _text(entry, "CdtDbtInd")
    base = {
        **account,
        "Booking Date": _text(entry, "BookgDt/DtTm", "BookgDt/Dt"),
        "Value Date": _text(entry, "ValDt/Dt", "ValDt/DtTm"),
        "CdtDbtInd": side,
        "Status": _text(entry, "Sts/Cd", "Sts"),
        "Amount": amount.text.strip() if amount is not None and amount.text else None,
        "Currency": amount.get("Ccy") if amount is not None else None,
        "Domain": _text(entry, "BkTxCd/Domn/Cd"),
        "Family": _text(entry, "BkTxCd/Domn/Fmly/Cd"),
        "SubFamily": _text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd"),
        "Proprietary Code": _text(entry, "BkTxCd/Prtry/Cd"),
        "Additional Info": _text(entry, "AddtlNtryInf"),
    }
    entry_id = _text(entry, "AcctSvcrRef", "NtryRef")
    details = [d for d in (_find(entry, "NtryDtls") or []) if _local(d.tag) == "TxDtls"]
    rows = []
    for k, tx in enumerate(details or [None]):
        role = "Dbtr" if side == "CRDT" else "Cdtr"
        name, acct, country = _party(tx, role)
        tx_amount = _find(tx, "AmtDtls/TxAmt/Amt") if tx is not None else None
        row = dict(base)
        if tx_amount is not None and tx_amount.text and len(details) > 1:
            row["Amount"], row["Currency"] = tx_amount.text.strip(), tx_amount.get("Ccy")
        tx_id = _text(tx, "Refs/AcctSvcrRef", "Refs/TxId") if tx is not None else None
        if len(details) > 1:
            row_id = tx_id or (f"{entry_id}/{k + 1}" if entry_id else None)
        else:
            row_id = entry_id or tx_id
        row.update(
            {
                "Entry Id": row_id,
                "EndToEndId": _text(tx, "Refs/EndToEndId") if tx is not None else None,
                "Counterparty Name": name,
                "Counterparty Account": acct,
                "Counterparty Country": country,
                "Remittance Info": _text(tx, "RmtInf/Ustrd") if tx is not None else None,
            }
        )
        rows.append(row)
    return rows


def read_camt053(path: str | Path) -> pl.DataFrame:
    """Every statement entry of a camt.053 file as rows of text columns (see ``COLUMNS``)."""
    rows: list[dict[str, str | None]] = []
    account: dict[str, str | None] = {}
    stack: list[str] = []
    statements = 0
    try:
        for event, node in ET.iterparse(str(path), events=("start", "end")):
            if event == "start":
                stack.append(_local(node.tag))
                if stack[-1] == "Stmt":
                    account, statements = {}, statements + 1
                continue
            parent = stack[-2] if len(stack) > 1 else None
            tag = stack.pop()
            if parent == "Stmt" and tag == "Id":
                account["Statement Id"] = (node.text or "").strip() or None
            elif parent == "Stmt" and tag == "Acct":
                account.update(
                    {
                        "Account": _text(node, "Id/IBAN", "Id/Othr/Id"),
                        "Account Currency": _text(node, "Ccy"),
                        "Account Owner": _text(node, "Ownr/Nm", "Ownr/Pty/Nm"),
                    }
                )
            elif parent == "Stmt" and tag == "Ntry":
                rows.extend(_rows(node, account))
                node.clear()
    except ET.ParseError as exc:
        raise InputError(f"{path} is not well-formed XML ({exc}); is it a camt.053 file?") from None
    if not statements:
        raise InputError(f"{path} has no camt.053 statement (no <Stmt> element)")
    return pl.DataFrame(rows, schema={c: pl.String for c in COLUMNS}, orient="row")
