"""Export case packets: build, redact, render, validate, write atomically.

Formats: ``json`` (the packet itself), ``html`` (a person), ``md`` (Markdown), ``fincen-sar``
(one FinCEN SAR batch for all the chosen cases) and ``goaml`` (one goAML report per case).
XML filings are validated against the bundled official schemas before anything is written;
a filing that fails is a failed check (``CheckFailed``), and nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from txflags.atomic import commit_all
from txflags.errors import CheckFailed, InputError
from txflags.packets.build import build_packet
from txflags.packets.filer import FilerConfig
from txflags.packets.fincen import fincen_sar_xml, write_fincen_batch
from txflags.packets.goaml import goaml_xml
from txflags.packets.html import render_html
from txflags.packets.markdown import render_markdown
from txflags.packets.redact import PROFILES, new_key, redact
from txflags.packets.validate import validate_fincen, validate_goaml
from txflags.store import Store

FORMATS = {"json": ".json", "html": ".html", "md": ".md", "fincen-sar": ".xml",
           "goaml": ".xml"}
KEY_ENV = "TXFLAGS_REDACTION_KEY"


@dataclass(frozen=True)
class ExportOptions:
    """How to export: format, redaction, and for filings the filer config and FIU schema."""

    fmt: str
    redact: str = "internal"
    filer: FilerConfig | None = None
    goaml_schema: str = "5.0.1"
    report_code: str = "STR"
    attachments: bool = False
    key: str | None = None

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise InputError(f"--format {self.fmt!r}: choose from {', '.join(FORMATS)}")
        if self.redact not in PROFILES:
            raise InputError(f"--redact {self.redact!r}: choose from {', '.join(PROFILES)}")
        if self.fmt in ("fincen-sar", "goaml") and self.filer is None:
            raise InputError(
                f"--format {self.fmt} needs --filer FILE (your institution's details); "
                "`txflags packets filer-template > filer.yaml` writes one to fill in"
            )


def redaction_key(st: Store, given: str | None = None) -> str:
    """The key for pseudonyms: given, else $TXFLAGS_REDACTION_KEY, else the store's own (made
    once, kept in the store's database so pseudonyms stay stable across exports)."""
    if given:
        return given
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV]
    with st.connect() as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'redaction_key'").fetchone()
        if row:
            return row[0]
        key = new_key()
        db.execute("INSERT OR IGNORE INTO meta VALUES ('redaction_key', ?)", (key,))
        row = db.execute("SELECT value FROM meta WHERE key = 'redaction_key'").fetchone()
        return row[0]


def packets_for(st: Store, case_ids: list[str], opts: ExportOptions,
                built_at: datetime | None = None) -> list[dict[str, Any]]:
    """Built (and redacted) packets for ``case_ids``."""
    built_at = built_at or datetime.now(UTC)
    out = [dict(build_packet(st, c, built_at=built_at)) for c in case_ids]
    if opts.redact != "internal":
        key = redaction_key(st, opts.key)
        out = [redact(p, opts.redact, key) for p in out]
    return out


def _bytes_writer(data: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(data)


def _checked(xml: bytes, errors: list[str], what: str) -> bytes:
    if errors:
        shown = "\n  ".join(errors[:10])
        raise CheckFailed(f"{what} does not validate ({len(errors)} problem(s)):\n  {shown}")
    return xml


def render(packet: dict[str, Any], opts: ExportOptions) -> bytes:
    """One packet in a per-case format (json, html, md, goaml)."""
    if opts.fmt == "json":
        return (json.dumps(packet, indent=2, ensure_ascii=False, default=str) + "\n").encode()
    if opts.fmt == "html":
        return render_html(packet).encode()
    if opts.fmt == "md":
        return render_markdown(packet).encode()
    if opts.fmt == "goaml":
        assert opts.filer is not None
        xml = goaml_xml(packet, opts.filer, report_code=opts.report_code,  # type: ignore[arg-type]
                        goaml_schema=opts.goaml_schema)
        return _checked(xml, validate_goaml(xml, opts.goaml_schema),
                        f"goAML report for {packet['case']['case_id']}")
    raise InputError(f"{opts.fmt} is not a per-case format")


def export(
    store: str | Path | Store, case_ids: list[str], out: str | Path, opts: ExportOptions,
    built_at: datetime | None = None,
) -> list[Path]:
    """Write the packets of ``case_ids`` to ``out``; returns the files written.

    One case: ``out`` is the file (or a folder to put ``<case_id><ext>`` in). Several cases:
    ``out`` is a folder with one file per case — except ``fincen-sar``, which writes one batch
    (``out`` a file, or ``<folder>/sar-batch.xml``). With ``attachments`` the SAR batch becomes
    a ``.zip`` holding the XML and one evidence CSV per case.
    """
    opts.check()
    if not case_ids:
        raise InputError("no cases to export: `txflags cases list --store DIR` shows them")
    st = store if isinstance(store, Store) else Store(store)
    packets = packets_for(st, case_ids, opts, built_at)
    target = Path(out)
    ext = FORMATS[opts.fmt]
    files: dict[Path, Callable[[Path], None]] = {}
    if opts.fmt == "fincen-sar":
        assert opts.filer is not None
        filed = (built_at or datetime.now(UTC)).date()
        xml = fincen_sar_xml(packets, opts.filer, attachments=opts.attachments,  # type: ignore[arg-type]
                             filing_date=filed)
        _checked(xml, validate_fincen(xml), "FinCEN SAR batch")
        many = len(case_ids) > 1 and not target.suffix
        path = target / "sar-batch.xml" if target.is_dir() or many else target
        return [write_fincen_batch(path, packets, opts.filer,  # type: ignore[arg-type]
                                   attachments=opts.attachments, filing_date=filed, xml=xml)]
    single = len(case_ids) == 1 and not target.is_dir() and bool(target.suffix)
    if len(case_ids) > 1 and target.suffix and not target.is_dir():
        raise InputError(f"--out {target}: several cases need a folder (one file per case)")
    for p in packets:
        path = target if single else target / f"{p['case']['case_id']}{ext}"
        files[path] = _bytes_writer(render(p, opts))
    return commit_all(files)  # type: ignore[arg-type]
