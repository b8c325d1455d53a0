"""The shape of matrix.json (schema `ringlab-matrix/2`, described in reports/README.md),
checked by the tests and by `scripts/compare` before it trusts a file.
"""
NUMBER = (int, float)

TOP = {"schema": str, "host_id": str, "run_id": str, "host": dict, "mode": str, "config": dict, "seconds": NUMBER,
       "complete": bool, "interrupted": bool, "rows": list, "probes": list, "headlines": list, "picks": list,
       "gates": list, "instruction_counts": dict}
HOST = {"cpu_model": str, "cpus": int, "kernel": str, "clocksource": str, "governor": str, "compiler": str,
        "cxx_flags": str, "build_type": str, "libraries": dict, "topology": dict, "commit": str, "date": str}
ROW = {"name": str, "benchmark": str, "kind": str, "pattern": str, "wait": str, "group": str, "peer": bool,
       "knobs": dict, "threads": int, "oversubscribed": bool, "floor_before": (dict, type(None)),
       "floor_after": (dict, type(None)), "floor_moved": (bool, type(None)), "raw": str, "seconds": NUMBER}
KINDS = {"throughput", "round_trip", "round_trip_dist", "one_way", "idle", "floor"}
STAT = {"median": NUMBER, "min": NUMBER, "max": NUMBER, "values": list}
GATE = {"id": str, "value": NUMBER, "better": str, "noise": NUMBER, "flagged": bool}
HEADLINE = {"name": str, "goal": str, "rounds": int, "rounds_kept": int}


def check(obj, fields, where, problems):
    if not isinstance(obj, dict):
        problems.append(f"{where}: not an object")
        return
    for key, kind in fields.items():
        if key not in obj:
            problems.append(f"{where}: missing '{key}'")
        elif not isinstance(obj[key], kind) or (kind is NUMBER and isinstance(obj[key], bool)):
            problems.append(f"{where}.{key}: {type(obj[key]).__name__} is not {kind}")


def validate(report):
    """Returns the list of problems (empty: the report has the documented shape)."""
    problems = []
    check(report, TOP, "report", problems)
    if problems:
        return problems
    if report["schema"] != "ringlab-matrix/2":
        problems.append(f"report.schema: {report['schema']} (expected ringlab-matrix/2)")
    check(report["host"], HOST, "host", problems)
    for i, row in enumerate(report["rows"]):
        where = f"rows[{i}]"
        check(row, ROW, where, problems)
        if not isinstance(row, dict):
            continue
        if row.get("kind") not in KINDS:
            problems.append(f"{where}.kind: {row.get('kind')}")
        if "error" in row:
            continue
        if not isinstance(row.get("metrics"), dict) or not isinstance(row.get("repetitions"), int):
            problems.append(f"{where}: a row without an error needs metrics and repetitions")
            continue
        for name, stat in row["metrics"].items():
            check(stat, STAT, f"{where}.metrics.{name}", problems)
        for ratio in ("floor_ratio", "peer_ratio"):
            if row.get(ratio) is not None and not isinstance(row[ratio], dict):
                problems.append(f"{where}.{ratio}: not an object")
    for i, gate in enumerate(report["gates"]):
        check(gate, GATE, f"gates[{i}]", problems)
        if isinstance(gate, dict) and gate.get("better") not in ("higher", "lower"):
            problems.append(f"gates[{i}].better: {gate.get('better')}")
    for i, h in enumerate(report["headlines"]):
        check(h, HEADLINE, f"headlines[{i}]", problems)
    ic = report["instruction_counts"]
    if "kernels" in ic and not isinstance(ic["kernels"], list):
        problems.append("instruction_counts.kernels: not a list")
    return problems
