#!/usr/bin/env bash
# The main job end to end on generated data: synth -> bank export -> mapping check -> ingest
# -> typology fixtures -> nightly scan of the export -> evaluation against ground truth
# -> cases -> packets (HTML for a person, FinCEN SAR and goAML XML that validate).
# Usage: scripts/demo.sh BIN_DIR OUT_DIR
set -euo pipefail
BIN=${1:-.venv/bin}
OUT=${2:-demo-out}
TX="$BIN/txflags"
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== 1. generate a synthetic bank with ground truth, and its messy core-banking export"
"$TX" synth --out "$OUT/synth" --customers 2000 --days 60 --seed 1 --bank-export

echo "== 2. check the export's mapping"
"$TX" mapping check "$OUT/synth/bank_export/mapping.yaml" "$OUT/synth/bank_export/transactions.csv" \
  --rows 5000 --sample 3

echo "== 3. ingest the export (junk rows are quarantined, never lost)"
"$TX" ingest "$OUT/synth/bank_export/transactions.csv" -m "$OUT/synth/bank_export/mapping.yaml" \
  -o "$OUT/ingest"
"$TX" ingest "$OUT/synth/bank_export/accounts.csv" -m "$OUT/synth/bank_export/accounts_mapping.yaml" \
  -o "$OUT/ingest-accounts"

echo "== 4. the typology catalogue: every rule against its fixture"
"$TX" typologies test

echo "== 5. scan the bank export (ingest, history, typologies, risk); a re-run changes nothing"
for run in 1 2; do
  "$TX" scan "$OUT/synth/bank_export/transactions.csv" -m synthetic-bank-export \
    --accounts "$OUT/synth/bank_export/accounts.csv" --accounts-mapping synthetic-bank-accounts \
    --store "$OUT/store" --out "$OUT/scan"
done

echo "== 6. how well did it do? (ground truth from the generator)"
"$TX" eval --truth "$OUT/synth" --alerts "$OUT/scan"

echo "== 7. the cases the scan opened, most urgent first"
"$TX" cases list --store "$OUT/store" --limit 5
TOP=$("$TX" cases list --store "$OUT/store" --limit 1 --json | \
  "$BIN/python" -c 'import json, sys; print(json.load(sys.stdin)[0]["case_id"])')
"$TX" cases show "$TOP" --store "$OUT/store"

echo "== 8. packets: HTML and Markdown for the analyst, filings that validate (example filer)"
"$TX" packets filer-template > "$OUT/filer.yaml"
"$TX" packets export "$TOP" --store "$OUT/store" -f html -o "$OUT/packets/$TOP.html"
"$TX" packets export "$TOP" --store "$OUT/store" -f md -o "$OUT/packets/$TOP.md"
"$TX" packets export "$TOP" --store "$OUT/store" -f html --redact external \
  -o "$OUT/packets/$TOP.external.html"
"$TX" packets export --top 5 --store "$OUT/store" -f fincen-sar --filer "$OUT/filer.yaml" \
  -o "$OUT/packets/sar-batch.xml"
"$TX" packets export "$TOP" --store "$OUT/store" -f goaml --filer "$OUT/filer.yaml" \
  -o "$OUT/packets/$TOP.goaml.xml"

echo "demo outputs are in $OUT/"
echo "open the case packet: $(cd "$OUT/packets" && pwd)/$TOP.html"
