"""The list of command modules; each has `register(app)`. Add yours here."""

from txflags.cli import eval_cmd, ingest_cmd, mapping_cmd, scan_cmd, synth_cmd, typologies_cmd

MODULES = [ingest_cmd, mapping_cmd, synth_cmd, typologies_cmd, scan_cmd, eval_cmd]
MODULES.append(__import__("txflags.cli.models_cmd", fromlist=["register"]))  # anomaly models
MODULES.append(__import__("txflags.cli.cases_cmd", fromlist=["register"]))  # cases
MODULES.append(__import__("txflags.cli.packets_cmd", fromlist=["register"]))  # packets
