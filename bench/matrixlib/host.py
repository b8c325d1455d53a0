"""The host fingerprint every report file carries, and the host id that names its folder.

A number is only meaningful with the machine, the build and the commit that made it: the
fingerprint records the CPU model, CPUs/cores/caches (hwloc, through the benchmark binary),
kernel, clock source, governor, compiler and flags, the build types of ringlab and of the
libraries it links (Debian's Google Benchmark reports itself as a debug build), and the
commit.
"""
import datetime
import json
import os
import platform
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Debian packages whose versions say which library code a number was measured with.
PACKAGES = ["libbenchmark-dev", "libtbb-dev", "libboost-dev", "libatomic-queue-dev", "libconcurrentqueue-dev",
            "libreaderwriterqueue-dev", "libhwloc-dev", "valgrind", "libdisruptor-java"]


def sh(cmd, timeout=20):
    try:
        return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                              timeout=timeout).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return ""


def read_first(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return default


def cpu_model():
    for line in read_first("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cmake_cache(build_dir):
    """CMAKE_CXX_COMPILER, CMAKE_CXX_FLAGS, CMAKE_BUILD_TYPE from a build folder's cache."""
    out = {}
    for line in read_first(os.path.join(build_dir, "CMakeCache.txt")).splitlines():
        m = re.match(r"(CMAKE_CXX_COMPILER|CMAKE_CXX_FLAGS|CMAKE_BUILD_TYPE|CMAKE_CXX_FLAGS_RELEASE):[A-Z]+=(.*)", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def package_versions():
    text = sh(["dpkg-query", "-W", "-f=${Package} ${Version}\n"] + PACKAGES)
    versions = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            versions[parts[0]] = parts[1]
    return versions


def build_dir_of(bench):
    """build/bench/bench/ringlab-bench -> build/bench."""
    return os.path.dirname(os.path.dirname(os.path.abspath(bench)))


def fingerprint(bench, topology=None):
    cache = cmake_cache(build_dir_of(bench))
    compiler_path = cache.get("CMAKE_CXX_COMPILER", "")
    compiler = sh([compiler_path, "--version"]).splitlines()[0] if compiler_path else ""
    build_type = cache.get("CMAKE_BUILD_TYPE", "")
    flags = " ".join(f for f in (cache.get("CMAKE_CXX_FLAGS", ""),
                                 cache.get("CMAKE_CXX_FLAGS_RELEASE", "") if build_type == "Release" else "") if f)
    commit = sh(["git", "-C", ROOT, "rev-parse", "HEAD"]) or "unknown"
    dirty = bool(sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]))
    versions = package_versions()
    return {
        "cpu_model": cpu_model(),
        "cpus": os.cpu_count() or 1,
        "kernel": platform.release(),
        "clocksource": read_first("/sys/devices/system/clocksource/clocksource0/current_clocksource", "unknown"),
        "governor": read_first("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "n/a (no cpufreq)"),
        "compiler": compiler,
        "cxx_flags": flags,
        "build_type": build_type,
        "libraries": {
            "ringlab": f"header-only, built {build_type} `{flags}`",
            # Filled from the benchmark's own JSON context once a run reports it.
            "google_benchmark": f"Debian {versions.get('libbenchmark-dev', '?')}, library build: ?",
            "peers": "header-only, built with ringlab's flags: atomic_queue "
                     f"{versions.get('libatomic-queue-dev', '?')}, boost {versions.get('libboost-dev', '?')}, "
                     f"moodycamel concurrentqueue {versions.get('libconcurrentqueue-dev', '?')} / readerwriterqueue "
                     f"{versions.get('libreaderwriterqueue-dev', '?')}",
            "tbb": f"Debian {versions.get('libtbb-dev', '?')} (release build)",
            "hwloc": f"Debian {versions.get('libhwloc-dev', '?')}",
            "valgrind": versions.get("valgrind", "absent"),
        },
        "topology": topology or {},
        "commit": commit + ("-dirty" if dirty else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
    }


def host_id(fp):
    """`<cpu model slug>-<N>cpu`: one folder per machine class."""
    slug = re.sub(r"[^a-z0-9]+", "-", fp["cpu_model"].lower()).strip("-")
    slug = re.sub(r"-(\d+-core-processor|processor|cpu)$", "", slug)
    return f"{slug or 'unknown-cpu'}-{fp['cpus']}cpu"


def run_id(fp):
    """Commit, CPU, compiler, cores and time in one token (what a results file is named by)."""
    compiler = re.sub(r"[^a-z0-9.]+", "-", fp.get("compiler", "").lower()).strip("-")[:24]
    stamp = fp["date"].replace(":", "").replace("-", "")[:15]
    return f"{fp['commit'][:12]}_{host_id(fp)}_{compiler or 'cc'}_{stamp}"


def fingerprint_lines(fp):
    """The fingerprint as short `key: value` lines, for comments in text files."""
    topo = fp.get("topology") or {}
    caches = ", ".join(f"L{c['level']}{c['type'][0]} {c['size_bytes'] // 1024}K/{c['shared_by_cpus']}cpu"
                       for c in topo.get("caches", []))
    libs = fp.get("libraries", {})
    return [
        f"host: {host_id(fp)} ({fp.get('hostname', '')})",
        f"cpu: {fp['cpu_model']}; CPUs {fp['cpus']}, cores {topo.get('cores', '?')}, "
        f"packages {topo.get('packages', '?')}; caches {caches or '?'}",
        f"kernel: {fp['kernel']}, clocksource {fp.get('clocksource', '?')}, governor {fp['governor']}",
        f"compiler: {fp['compiler']}; build {fp['build_type']} `{fp['cxx_flags']}`",
        f"google benchmark: {libs.get('google_benchmark', '?')}; tbb {libs.get('tbb', '?')}",
        f"commit: {fp['commit']}, {fp['date']}",
    ]


def read_topology(bench):
    try:
        text = subprocess.run([bench, "--ringlab_topology"], capture_output=True, text=True, timeout=30).stdout
        return json.loads(text)
    except (subprocess.SubprocessError, OSError, ValueError):
        return {}
