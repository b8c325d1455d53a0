#!/usr/bin/python3
"""model-checks/mutants.py: the memory-order mutation runner.

Every atomic operation in lib/ names its order at a labelled site, `at("label", mo::order)`.
This runner finds every site, builds the mutants of each (the order one step weaker:
seq_cst -> acq_rel, or acquire for a load and release for a store; acq_rel -> acquire and,
separately, -> release; acquire/release -> relaxed; a fence one step weaker, a relaxed
site has none), and runs the model-check binaries that include the site's header with
that one mutant switched on at run time (`--mutant LABEL[:release]`): no rebuild. A mutant
is killed when a suite fails (which binary and suite, which failure, at which iteration,
and the command that replays it). The DST (`ringlab-dst run --mutant`) is tried as a second
killer. Then it writes reports/model-checks.md (generated: never edit it by hand) and the
raw reports/model-checks.json beside it.

It fails (exit 1) on:
  - a mutant that survives, or a site no suite reaches, without a justification in the
    source: a comment `// mo-justified: <why>` on the site's line or in the comment lines
    directly above it (above the line where its call starts, for a call that spans
    lines); `// mo-justified(to release): <why>` justifies only the mutant that weakens
    the site to release (likewise `to acquire`, `to relaxed`, ...);
  - a justification whose mutant is killed (the justification is wrong: remove it);
  - a label used at two sites, a site it cannot parse, a site in a call it does not know;
  - an atomic used in lib/ outside the sync seam (std::atomic, std::atomic_thread_fence,
    std::atomic_signal_fence, std::atomic_ref, std::atomic_flag, __atomic_*, __sync_*
    anywhere in lib/ but sync/native.hpp and platform.hpp);
  - an unmutated suite that fails (then no kill means anything), or a run that crashes.

Usage (from the repository root; scripts/ringlab model-check --mutants passes --build):
  model-checks/mutants.py --build DIR [--jobs N] [--iterations N] [--bound K]
      [--only REGEX] [--changed-since REV] [--sample N [--sample-seed S]]
      [--all-killers] [--no-dst] [--dst-seeds N] [--out DIR] [--no-report] [--list]
Exit: 0 every mutant killed or justified, 1 a finding (above), 2 usage.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "lib"
INCLUDE = LIB / "include"
MODEL_CHECKS = ROOT / "model-checks"

# Files of lib/ that may use std::atomic and friends: the native backend and the platform
# header. Everything else reaches atomics through the seam, so every operation has a site.
ATOMIC_ALLOWED = {"lib/include/ringlab/sync/native.hpp", "lib/include/ringlab/platform.hpp"}
ATOMIC_PATTERNS = [
    (re.compile(r"\bstd::atomic\s*<"), "std::atomic<>"),
    (re.compile(r"\bstd::atomic_(?:thread|signal)_fence\b"), "std::atomic_*_fence"),
    (re.compile(r"\bstd::atomic_ref\b"), "std::atomic_ref"),
    (re.compile(r"\bstd::atomic_flag\b"), "std::atomic_flag"),
    (re.compile(r"\bstd::atomic_(?:load|store|exchange|compare_exchange|fetch)\w*"), "std::atomic_* free function"),
    (re.compile(r"\b__atomic_\w+"), "__atomic builtin"),
    (re.compile(r"\b__sync_\w+"), "__sync builtin"),
]

# The call a site sits in decides what kind of access it is (what weakening means).
CALL_KINDS = {
    "load": "load",
    "store": "store",
    "exchange": "rmw",
    "compare_exchange_weak": "rmw",
    "compare_exchange_strong": "rmw",
    "fetch_add": "rmw",
    "fetch_sub": "rmw",
    "fetch_or": "rmw",
    "fetch_and": "rmw",
    "fence": "fence",
    "asymmetric_fence_light": "fence",
    "asymmetric_fence_heavy": "fence",
}
ORDERS = ["relaxed", "consume", "acquire", "release", "acq_rel", "seq_cst"]

SITE_RE = re.compile(r"(?<![\w.>])at\(")
SITE_ARGS_RE = re.compile(
    r'at\(\s*"(?P<label>[^"\\]+)"\s*,\s*(?:(?:ringlab::)?(?:sync::)?mo::|std::memory_order_|std::memory_order::)(?P<order>\w+)\s*[,)]'
)
MARKER_RE = re.compile(r"mo-justified(?:\(\s*to\s+(?P<to>\w+)\s*\))?\s*:\s*(?P<why>.*)")
INCLUDE_RE = re.compile(r'#\s*include\s*"(?P<path>[^"]+)"')


# ---- sources -------------------------------------------------------------------------


def strip_comments(text: str, blank_strings: bool = False) -> str:
    """Blanks C++ comments (keeping newlines, so line numbers and offsets hold); string and
    character literals stay, or keep only their quotes with `blank_strings`."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c == "'" and number_before(text, i):
            out.append(c)  # a digit separator (50'000), not a character literal
            i += 1
        elif c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            literal = text[i : j + 1]
            out.append(c + " " * (len(literal) - 2) + c if blank_strings and len(literal) >= 2 else literal)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def number_before(text: str, i: int) -> bool:
    """Whether the token that ends just before offset `i` is a number literal."""
    j = i
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] in "_'."):
        j -= 1
    return j < i and text[j].isdigit()


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


@dataclasses.dataclass
class Site:
    label: str
    order: str
    kind: str  # load, store, rmw, fence
    call: str
    file: str  # relative to the repository root
    line: int
    call_line: int
    justifications: dict  # "" (every mutant) or a target order -> the reason

    @property
    def primitive(self) -> str:
        return primitive_of(self.file)

    @property
    def key(self) -> tuple:
        """What --changed-since compares: a site moved between its primitive's files (into a
        detail/ header) is the same site; one whose order or kind changed is not."""
        return (self.label, self.order, self.kind, self.primitive)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def primitive_of(rel: str) -> str:
    """A lib/ file's primitive: its stem, or for a detail/ file that holds part of a
    primitive (detail/journal_read.hpp) the primitive whose name its stem extends."""
    path = Path(rel)
    if path.parent.name == "detail":
        owners = [h.stem for h in (ROOT / path.parent.parent).glob("*.hpp") if path.stem.startswith(h.stem + "_")]
        if owners:
            return max(owners, key=len)
    return path.stem


@dataclasses.dataclass
class Finding:
    kind: str
    where: str
    what: str


def enclosing_call(code: str, pos: int) -> tuple[str, int]:
    """The identifier of the innermost call whose parentheses hold `pos`, and its offset."""
    depth = 0
    i = pos - 1
    while i >= 0:
        c = code[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                m = re.search(r"([A-Za-z_]\w*)\s*(?:<[^()<>]*>)?\s*$", code[max(0, i - 200) : i])
                return (m.group(1), i) if m else ("", i)
            depth -= 1
        elif c in ";{}" and depth == 0:
            return "", i
        i -= 1
    return "", 0


def comment_block_above(lines: list[str], line: int) -> list[str]:
    """The comment-only lines directly above 1-based `line`, top to bottom."""
    block = []
    k = line - 2
    while k >= 0 and lines[k].strip().startswith("//"):
        block.append(lines[k].strip())
        k -= 1
    return list(reversed(block))


def justifications_for(lines: list[str], site_line: int, call_line: int) -> dict:
    candidates = [lines[site_line - 1]]
    for ln in sorted({site_line, call_line}):
        candidates.extend(comment_block_above(lines, ln))
    found = {}
    for idx, text in enumerate(candidates):
        m = MARKER_RE.search(text)
        if not m:
            continue
        why = m.group("why").strip()
        # A reason may go on over the comment lines that follow the marker in its block.
        for more in candidates[idx + 1 :]:
            if not more.startswith("//") or MARKER_RE.search(more):
                break
            why += " " + more.lstrip("/ ").strip()
        found[m.group("to") or ""] = why.strip()
    return found


def lib_files() -> list[Path]:
    return sorted(p for p in LIB.rglob("*") if p.is_file() and p.suffix in {".hpp", ".h", ".cpp", ".ipp"})


def parse_sites(rel: str, text: str, findings: list[Finding]) -> list[Site]:
    """The sites of one file (`rel`: its repository-relative path, `text`: its contents)."""
    sites = []
    code = strip_comments(text)
    scan = strip_comments(text, blank_strings=True)  # where to look: neither comments nor strings
    lines = text.split("\n")
    for m in SITE_RE.finditer(scan):
        pos = m.start()
        line = line_of(code, pos)
        args = SITE_ARGS_RE.match(code, pos)
        if not args:
            # The function that defines at() itself is not a site.
            if re.match(r"at\(\s*const\s+char\s*\*", code[pos:]):
                continue
            findings.append(Finding("unparsed site", f"{rel}:{line}",
                                    "at(...) without a string-literal label and an mo:: order"))
            continue
        label, order = args.group("label"), args.group("order")
        if order not in ORDERS:
            findings.append(Finding("unparsed site", f"{rel}:{line}", f"unknown order {order}"))
            continue
        call, call_pos = enclosing_call(scan, pos)
        kind = CALL_KINDS.get(call)
        if kind is None:
            findings.append(Finding("unknown call", f"{rel}:{line}",
                                    f"site {label} sits in '{call or '?'}', not a seam operation "
                                    f"the runner knows ({', '.join(sorted(CALL_KINDS))})"))
            continue
        call_line = line_of(code, call_pos)
        sites.append(Site(label, order, kind, call, rel, line, call_line,
                          justifications_for(lines, line, call_line)))
    # A cross-check of the scanner: every labelled at(" outside comments is a site.
    expected = len(re.findall(r'(?<![\w.>])at\(\s*"', code))
    seen = len(sites) + sum(1 for f in findings if f.where.startswith(f"{rel}:") and f.kind in ("unparsed site", "unknown call"))
    if expected > seen:
        findings.append(Finding("scanner lost sites", rel,
                                f"{expected} labelled at(...) outside comments, {seen} parsed: fix mutants.py"))
    return sites


def find_sites(findings: list[Finding]) -> list[Site]:
    sites = []
    for path in lib_files():
        sites.extend(parse_sites(str(path.relative_to(ROOT)), path.read_text(), findings))
    return sites


def check_duplicates(sites: list[Site], findings: list[Finding]) -> None:
    seen: dict[str, Site] = {}
    for s in sites:
        if s.label in seen:
            findings.append(Finding("duplicate label", s.where,
                                    f"{s.label} is also the label at {seen[s.label].where}"))
        else:
            seen[s.label] = s


def lint_text(rel: str, text: str, findings: list[Finding]) -> None:
    """Flags atomics that bypass the seam in one file of lib/."""
    if rel in ATOMIC_ALLOWED:
        return
    code = strip_comments(text)
    for pattern, what in ATOMIC_PATTERNS:
        for m in pattern.finditer(code):
            findings.append(Finding("atomic outside the seam", f"{rel}:{line_of(code, m.start())}",
                                    f"{what} ({m.group(0)}): use the Sync backend's atomic/fence with a site"))


def lint_atomics(findings: list[Finding]) -> None:
    for path in lib_files():
        lint_text(str(path.relative_to(ROOT)), path.read_text(), findings)


def check_model_labels(sites: list[Site], findings: list[Finding]) -> None:
    """A label of a suite's own atomics must not shadow a lib/ label: a mutant would hit both."""
    lib_labels = {s.label for s in sites}
    for path in sorted(MODEL_CHECKS.glob("*.cpp")):
        code = strip_comments(path.read_text())
        for m in SITE_ARGS_RE.finditer(code):
            if m.group("label") in lib_labels:
                findings.append(Finding("duplicate label", f"{path.relative_to(ROOT)}:{line_of(code, m.start())}",
                                        f"{m.group('label')} is a lib/ label"))


# ---- mutants -------------------------------------------------------------------------


@dataclasses.dataclass
class Mutant:
    site: Site
    arg: str  # what --mutant takes
    to: str  # the order it runs with

    @property
    def justification(self) -> str | None:
        j = self.site.justifications
        return j.get(self.to, j.get(""))


def weakened(order: str, kind: str, keep_release: bool) -> str:
    """The order one step weaker; mirrors sync::weaken() in lib/include/ringlab/sync/site.hpp."""
    if order == "seq_cst":
        return {"load": "acquire", "store": "release"}.get(kind, "acq_rel")
    if order == "acq_rel":
        return "release" if keep_release else "acquire"
    return "relaxed"


def mutants_of(site: Site) -> list[Mutant]:
    if site.order == "relaxed":
        return []
    if site.order == "acq_rel":
        return [Mutant(site, site.label, weakened(site.order, site.kind, False)),
                Mutant(site, site.label + ":release", weakened(site.order, site.kind, True))]
    return [Mutant(site, site.label, weakened(site.order, site.kind, False))]


# ---- binaries ------------------------------------------------------------------------


def header_closure(path: Path, seen: set[Path] | None = None) -> set[Path]:
    """Every lib/ header `path` includes, transitively (quoted includes only)."""
    seen = set() if seen is None else seen
    for m in INCLUDE_RE.finditer(path.read_text()):
        for base in (INCLUDE, path.parent):
            candidate = (base / m.group("path")).resolve()
            if candidate.is_file():
                if candidate not in seen and LIB in candidate.parents:
                    seen.add(candidate)
                    header_closure(candidate, seen)
                break
    return seen


@dataclasses.dataclass
class Binary:
    stem: str
    path: Path
    headers: set  # repository-relative paths of the lib/ files it includes

    @property
    def name(self) -> str:
        return self.path.name


def find_binaries(build: Path) -> list[Binary]:
    out = []
    for source in sorted(MODEL_CHECKS.glob("*.cpp")):
        binary = build / "model-checks" / f"model-check-{source.stem}"
        headers = {str(h.relative_to(ROOT)) for h in header_closure(source)}
        out.append(Binary(source.stem, binary, headers))
    return out


def relevant(site: Site, binaries: list[Binary]) -> list[Binary]:
    """The binaries that include the site's file, the primitive's own binary first."""
    hits = [b for b in binaries if site.file in b.headers]
    return sorted(hits, key=lambda b: (b.stem != site.primitive, b.stem))


def suite_list(binary: Binary) -> list[dict]:
    out = subprocess.run([str(binary.path), "--list"], capture_output=True, text=True, check=True).stdout
    suites = []
    for line in out.splitlines():
        m = re.match(r"(\S+)\s+\[(.*)\]\s*(.*)$", line)
        if m:
            suites.append({"suite": m.group(1), "edges": m.group(2), "searches": m.group(3).strip()})
    return suites


# ---- running -------------------------------------------------------------------------


def shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository root where it lies below."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def run_binary(binary: Binary, extra: list[str], timeout: int) -> dict:
    """Runs one model-check binary; returns its passes (from --report) and how it ended."""
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as f:
        report = f.name
    cmd = [shown(binary.path), "--report", report, *extra]
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
    seconds = time.monotonic() - t0
    passes = []
    try:
        with open(report) as f:
            passes = [json.loads(line) for line in f if line.strip()]
    finally:
        os.unlink(report)
    return {"binary": binary.name, "command": cmd[:1] + cmd[3:], "rc": rc, "seconds": round(seconds, 2),
            "passes": passes, "tail": out[-4000:] if rc not in (0, 1) else ""}


def run_relacy(mutant: Mutant, binaries: list[Binary], args) -> dict:
    extra = ["--mutant", mutant.arg, *args.relacy_args]
    if not args.all_killers:
        extra.append("--expect-fail")  # stop at the first failing suite
    runs = []
    covering = relevant(mutant.site, binaries)
    if not covering:
        return {"runs": [], "uncovered": True}
    for binary in covering:
        run = run_binary(binary, extra, args.timeout)
        runs.append(run)
        if run["rc"] not in (0, 1):
            break
        if not args.all_killers and any(not p["passed"] for p in run["passes"]):
            break
    return {"runs": runs}


def run_dst(mutant: Mutant, dst: Path, workloads: list[str], args) -> dict:
    results = []
    for w in workloads:
        cmd = [shown(dst), "run", "--workload", w, "--seeds", str(args.dst_seeds), "--mutant", mutant.arg, "--no-shrink"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
            rc, out = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            rc, out = "timeout", ""
        entry = {"workload": w, "rc": rc}
        if rc != 0:
            verdict = {10: "correctness", 11: "liveness", 12: "crash"}.get(rc, f"exit {rc}")
            seed = re.search(r"SEED=(\S+)", out)
            fail = re.search(r"^FAIL (.*)$", out, re.M)
            replay = re.search(r"replay: (.*)$", out, re.M)
            entry.update({"verdict": verdict, "seed": seed.group(1) if seed else "",
                          "failure": fail.group(1).strip() if fail else out.strip()[-300:],
                          "replay": replay.group(1).strip() if replay else ""})
            results.append(entry)
            break  # one workload that kills it is enough
        results.append(entry)
    return {"runs": results}


def dst_workloads(dst: Path) -> list[str]:
    out = subprocess.run([str(dst), "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line and not line[0].isspace()]


# ---- verdicts ------------------------------------------------------------------------


def verdict_of(mutant: Mutant, relacy: dict, dst: dict | None) -> dict:
    passes = [dict(p, binary=r["binary"]) for r in relacy["runs"] for p in r["passes"]]
    errors = [r for r in relacy["runs"] if r["rc"] not in (0, 1)]
    kills = [p for p in passes if not p["passed"]]
    hits = sum(p["mutant_hits"] for p in passes)
    dst_kill = next((r for r in (dst or {}).get("runs", []) if r["rc"] != 0), None)
    justification = mutant.justification
    if errors:
        status = "error"
    elif kills:
        status = "killed"
    elif dst_kill is not None:
        status = "killed (DST only)"
    elif relacy.get("uncovered"):
        status = "unreached (no suite includes its header)"
    elif hits == 0:
        status = "unreached"
    else:
        status = "survived"
    ok = status in ("killed", "killed (DST only)") and justification is None
    ok = ok or ((status == "survived" or status.startswith("unreached")) and justification is not None)
    if status.startswith("killed") and justification is not None:
        status += ", justification stale"
    return {"status": status, "ok": ok, "kills": kills, "hits": hits, "dst_kill": dst_kill,
            "justification": justification, "errors": [{"binary": e["binary"], "rc": e["rc"], "tail": e["tail"]} for e in errors]}


# ---- selection -----------------------------------------------------------------------


def sites_at(rev: str) -> set[tuple]:
    """The key (Site.key) of every site as of git revision `rev`."""
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev, "lib"],
                             capture_output=True, text=True, check=True).stdout.split()
    out = set()
    for rel in listing:
        if Path(rel).suffix not in {".hpp", ".h", ".cpp", ".ipp"}:
            continue
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{rel}"], capture_output=True,
                              text=True, check=True).stdout
        out.update(s.key for s in parse_sites(rel, text, []))
    return out


def select(mutants: list[Mutant], args) -> tuple[list[Mutant], str]:
    if args.only:
        pattern = re.compile(args.only)
        return [m for m in mutants if pattern.search(m.arg)], f"--only {args.only}"
    if args.changed_since is None and args.sample is None:
        return mutants, "every site"
    chosen: dict[str, Mutant] = {}
    how = []
    if args.changed_since is not None:
        before = sites_at(args.changed_since)
        for m in mutants:
            if m.site.key not in before:
                chosen[m.arg] = m
        how.append(f"{len(chosen)} mutants of sites new or changed since {args.changed_since}")
    if args.sample:
        seed = args.sample_seed
        if seed is None:
            seed = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                                  text=True).stdout.strip() or "0"
        rest = sorted((m for m in mutants if m.arg not in chosen), key=lambda m: m.arg)
        rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))
        picked = rng.sample(rest, min(args.sample, len(rest)))
        for m in picked:
            chosen[m.arg] = m
        how.append(f"a sample of {len(picked)} more (seed {seed[:12]})")
    return [m for m in mutants if m.arg in chosen], " + ".join(how)


# ---- report --------------------------------------------------------------------------


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def kill_text(v: dict) -> str:
    if v["kills"]:
        k = v["kills"][0]
        more = f" (+{len(v['kills']) - 1} more)" if len(v["kills"]) > 1 else ""
        return f"{k['binary'].removeprefix('model-check-')}/{k['suite']} {k['search']}: {k['failure']} @ {k['iteration']}{more}"
    return ""


def dst_text(v: dict, dst_ran: bool) -> str:
    if not dst_ran:
        return "not run"
    d = v["dst_kill"]
    if d is None:
        return "not killed"
    return f"{d['workload']}: {d['verdict']}, seed {d['seed']}"


def write_report(out_dir: Path, data: dict) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "model-checks.json"
    md_path = out_dir / "model-checks.md"
    json_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    L = []
    L.append("# Model checks: memory-order mutation table")
    L.append("")
    L.append("Generated by `model-checks/mutants.py`; do not edit by hand. Raw data: "
             "`reports/model-checks.json`. Regenerate with `scripts/ringlab model-check --mutants`.")
    L.append("")
    L.append("Each labelled memory-order site in `lib/` is weakened one step at a time, at run time, and "
             "the Relacy suites that include its header run against it (random scheduler and context-bound "
             "search; full search where a suite is spin-free). A mutant is *killed* when a suite fails, "
             "*justified* when it survives and the source says why at the site (`// mo-justified: ...`). "
             "The DST (`ringlab-dst run --mutant`, sequentially consistent runs with a vector-clock race "
             "detector) is tried as a second killer. How the suites and the runner work: `model-checks/README.md`.")
    L.append("")
    p = data["parameters"]
    L.append(f"Relacy: {p['relacy']}; DST: {p['dst']}; selection: {data['selection']}; "
             f"mutants stop at their first killing suite: {'no' if p['all_killers'] else 'yes'}.")
    L.append("")
    L.append("## Summary per primitive")
    L.append("")
    L.append("| primitive | sites | relaxed (no mutant) | mutants | killed | killed by DST only | justified | survived | unreached | errors |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for prim, row in sorted(data["summary"].items()):
        L.append(f"| {prim} | {row['sites']} | {row['relaxed']} | {row['mutants']} | {row['killed']} | "
                 f"{row['killed_dst_only']} | {row['justified']} | {row['survived']} | {row['unreached']} | {row['errors']} |")
    t = data["totals"]
    L.append(f"| **all** | {t['sites']} | {t['relaxed']} | {t['mutants']} | {t['killed']} | {t['killed_dst_only']} | "
             f"{t['justified']} | {t['survived']} | {t['unreached']} | {t['errors']} |")
    L.append("")
    L.append(f"Verdict: **{'every mutant killed or justified' if data['ok'] else 'FINDINGS: see below'}**.")
    L.append("")
    if data["findings"]:
        L.append("## Findings")
        L.append("")
        for f in data["findings"]:
            L.append(f"- **{f['kind']}** at `{f['where']}`: {md_escape(f['what'])}")
        L.append("")
    known = [(b["binary"], x) for b in data["suites"] for x in b["suites"] if "KNOWN BUG" in x.get("searches", "")]
    if known:
        L.append("## Known bugs (suites that show one; they run only when named, ctest: model-check.known-bug.*)")
        L.append("")
        for binary, x in known:
            L.append(f"- `{binary} --suite {x['suite']}`: {md_escape(x['searches'].split('KNOWN BUG:', 1)[1].strip())}")
        L.append("")
    L.append("## Mutants")
    L.append("")
    L.append("| site | where | access | order -> mutant | verdict | first Relacy kill (binary/suite search: failure @ iteration) | DST | hits |")
    L.append("|---|---|---|---|---|---|---|---:|")
    for r in data["mutants"]:
        v = r["verdict"]
        status = v["status"] + (", justified" if v["justification"] is not None and v["ok"] else "")
        L.append(f"| `{r['mutant']}` | {r['where']} | {r['kind']} | {r['order']} -> {r['to']} | {status} | "
                 f"{md_escape(kill_text(v))} | {md_escape(dst_text(v, p['dst'] != 'off'))} | {v['hits']} |")
    L.append("")
    just = [r for r in data["mutants"] if r["verdict"]["justification"]]
    if just:
        L.append("## Justifications (quoted from the sources)")
        L.append("")
        for r in just:
            L.append(f"- `{r['mutant']}` ({r['where']}, {r['order']} -> {r['to']}): {md_escape(r['verdict']['justification'])}")
        L.append("")
    L.append("## Relaxed sites (no weaker order, so no mutant)")
    L.append("")
    for s in data["relaxed_sites"]:
        L.append(f"- `{s['label']}` ({s['where']}, {s['kind']})")
    L.append("")
    L.append("## Suites")
    L.append("")
    L.append("| binary | suite | edges it exercises | searches |")
    L.append("|---|---|---|---|")
    for b in data["suites"]:
        for s in b["suites"]:
            L.append(f"| {b['binary']} | {s['suite']} | {md_escape(s['edges'])} | {s.get('searches', '')} |")
    L.append("")
    L.append("## Replaying a kill")
    L.append("")
    L.append("Every kill in the raw JSON carries the command that replays it, for example:")
    L.append("")
    example = next((r["verdict"]["kills"][0]["replay"] for r in data["mutants"] if r["verdict"]["kills"]), None)
    if example:
        L.append("```")
        L.append(example)
        L.append("```")
    L.append("")
    md_path.write_text("\n".join(L))
    return md_path, json_path


def summarise(sites: list[Site], results: list[dict]) -> tuple[dict, dict]:
    keys = ["sites", "relaxed", "mutants", "killed", "killed_dst_only", "justified", "survived", "unreached", "errors"]
    summary: dict[str, dict] = {}
    for s in sites:
        row = summary.setdefault(s.primitive, dict.fromkeys(keys, 0))
        row["sites"] += 1
        row["relaxed"] += s.order == "relaxed"
    for r in results:
        row = summary[r["primitive"]]
        v = r["verdict"]
        row["mutants"] += 1
        status = v["status"]
        if status == "error":
            row["errors"] += 1
        elif status.startswith("killed (DST only)"):
            row["killed_dst_only"] += 1
        elif status.startswith("killed"):
            row["killed"] += 1
        elif v["justification"] is not None:
            row["justified"] += 1
        elif status == "survived":
            row["survived"] += 1
        else:
            row["unreached"] += 1  # unreached, with or without a suite that includes it
    totals = {k: sum(row[k] for row in summary.values()) for k in keys}
    return summary, totals


# ---- main ----------------------------------------------------------------------------


def parse_args(argv: list[str]):
    ap = argparse.ArgumentParser(description="memory-order mutation runner (see the module docstring)")
    ap.add_argument("--build", required=True, help="the CMake build directory with model-checks/ and dst/")
    ap.add_argument("--jobs", type=int, default=max(1, min(2, os.cpu_count() or 1)))
    ap.add_argument("--iterations", type=int, help="random-scheduler iterations per suite (binary default)")
    ap.add_argument("--bound", type=int, help="context bound (binary default)")
    ap.add_argument("--only", help="only the mutants whose --mutant argument matches this regex")
    ap.add_argument("--changed-since", metavar="REV", help="only sites new or changed since git REV ...")
    ap.add_argument("--sample", type=int, help="... plus N other mutants, drawn with --sample-seed")
    ap.add_argument("--sample-seed", help="seed of the sample (default: the HEAD commit, so it rotates)")
    ap.add_argument("--all-killers", action="store_true", help="run every relevant suite, not only up to the first kill")
    ap.add_argument("--no-dst", action="store_true", help="do not try the DST as a second killer")
    ap.add_argument("--dst-seeds", type=int, default=2000)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per binary run")
    ap.add_argument("--out", help="where the report goes (default: reports/ for a run over every site)")
    ap.add_argument("--no-report", action="store_true", help="write no report (CI)")
    ap.add_argument("--list", action="store_true", help="list the sites and mutants, run nothing")
    args = ap.parse_args(argv)
    args.relacy_args = []
    if args.iterations is not None:
        args.relacy_args += ["--iterations", str(args.iterations)]
    if args.bound is not None:
        args.relacy_args += ["--bound", str(args.bound)]
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    build = Path(args.build)
    if not build.is_absolute():
        build = (Path.cwd() / build) if (Path.cwd() / build).is_dir() else ROOT / build
    findings: list[Finding] = []
    sites = find_sites(findings)
    check_duplicates(sites, findings)
    check_model_labels(sites, findings)
    lint_atomics(findings)
    mutants = [m for s in sites for m in mutants_of(s)]

    if args.list:
        for s in sites:
            ms = ", ".join(f"{m.arg} -> {m.to}" + (" [justified]" if m.justification else "") for m in mutants_of(s))
            print(f"{s.where:55} {s.kind:5} {s.order:8} {s.label:45} {ms or '(relaxed: none)'}")
        for f in findings:
            print(f"FINDING {f.kind} at {f.where}: {f.what}")
        return 1 if findings else 0

    binaries = find_binaries(build)
    missing = [str(b.path) for b in binaries if not b.path.is_file()]
    if missing:
        print("missing model-check binaries (build them first): " + ", ".join(missing), file=sys.stderr)
        return 2
    dst = build / "dst" / "ringlab-dst"
    dst_ok = not args.no_dst and dst.is_file()
    workloads = dst_workloads(dst) if dst_ok else []
    chosen, selection = select(mutants, args)
    print(f"mutants.py: {len(sites)} sites, {len(mutants)} mutants, running {len(chosen)} ({selection}); "
          f"{len(binaries)} model-check binaries; DST {'on: ' + ', '.join(workloads) if dst_ok else 'off'}; "
          f"{args.jobs} jobs", flush=True)

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        baseline_futures = {b.name: pool.submit(run_binary, b, list(args.relacy_args), args.timeout) for b in binaries}
        futures = [(m, pool.submit(run_relacy, m, binaries, args),
                    pool.submit(run_dst, m, dst, workloads, args) if dst_ok else None) for m in chosen]
        baseline = {name: f.result() for name, f in baseline_futures.items()}
        for name, run in baseline.items():
            if run["rc"] != 0:
                findings.append(Finding("baseline fails", name,
                                        "an unmutated suite fails, so no kill means anything: fix that first"))
        results = []
        for m, rf, df in futures:
            relacy, dst_result = rf.result(), (df.result() if df else None)
            v = verdict_of(m, relacy, dst_result)
            results.append({"mutant": m.arg, "label": m.site.label, "primitive": m.site.primitive,
                            "where": m.site.where, "kind": m.site.kind, "call": m.site.call,
                            "order": m.site.order, "to": m.to, "verdict": v,
                            "relacy": relacy, "dst": dst_result})
            mark = "ok  " if v["ok"] else "FAIL"
            print(f"{mark} {m.arg:48} {m.site.order:7} -> {m.to:7} {v['status']:28} {kill_text(v)}", flush=True)
    seconds = time.monotonic() - t0

    for r in results:
        v = r["verdict"]
        if v["ok"]:
            continue
        if v["status"] == "error":
            what = "; ".join(f"{e['binary']} exited {e['rc']}" for e in v["errors"])
            findings.append(Finding("run error", r["where"], f"{r['mutant']}: {what}"))
        elif v["status"].endswith("justification stale"):
            findings.append(Finding("stale justification", r["where"],
                                    f"{r['mutant']} is killed ({kill_text(v) or dst_text(v, True)}): remove its mo-justified marker"))
        else:
            todo = (f"write model-checks/{r['primitive']}.cpp (a suite that includes the header)"
                    if "no suite" in v["status"] else
                    "write the check that kills it, weaken the order, or justify it with // mo-justified: <why>")
            findings.append(Finding(f"unjustified {v['status'].split(' (')[0]}", r["where"],
                                    f"{r['mutant']} ({r['order']} -> {r['to']}) {v['status']}: {todo}"))

    summary, totals = summarise(sites, results)
    ok = not findings
    data = {
        "generator": "model-checks/mutants.py",
        "selection": selection,
        "parameters": {
            "relacy": " ".join(args.relacy_args) or "binary defaults (--iterations 200000, each suite's bound)",
            "dst": f"{args.dst_seeds} seeds per workload ({', '.join(workloads)})" if dst_ok else "off",
            "all_killers": args.all_killers,
            "jobs": args.jobs,
        },
        "seconds": round(seconds, 1),
        "ok": ok,
        "summary": summary,
        "totals": totals,
        "findings": [dataclasses.asdict(f) for f in findings],
        "mutants": results,
        "relaxed_sites": [{"label": s.label, "where": s.where, "kind": s.kind} for s in sites if s.order == "relaxed"],
        "baseline": list(baseline.values()),
        "suites": [{"binary": b.name, "suites": suite_list(b)} for b in binaries],
    }
    full_run = selection == "every site"
    if not args.no_report and (args.out or full_run):
        out_dir = Path(args.out) if args.out else ROOT / "reports"
        md, js = write_report(out_dir, data)
        print(f"wrote {md} and {js}")
    print(f"{totals['mutants']} mutants of {totals['sites']} sites in {seconds:.0f} s: {totals['killed']} killed, "
          f"{totals['killed_dst_only']} killed by DST only, {totals['justified']} justified, "
          f"{totals['survived']} survived, {totals['unreached']} unreached, {totals['errors']} errors")
    for f in findings:
        print(f"FINDING {f.kind} at {f.where}: {f.what}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
