#!/usr/bin/env bash
# Time of `iocforge runtime start` from process start to the exec of the IOC,
# for an IOC the size of a real areaDetector IOC (65 entities, ~7,000 records
# in ioc.db). The IOC command is /bin/true, so the process ends right after
# the exec and the whole wall time is iocforge's own work plus one exec.
#
#   bench/start/run.sh      # writes bench/start/results.md
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
(cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
bin="$root/target/x86_64-unknown-linux-musl/release/iocforge"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_tree.py" "$work/epics" 65
export EPICS_ROOT="$work/epics" IOC_NAME=bench-ioc IOCFORGE_IOC_COMMAND=/bin/true IOCFORGE_FAILURE_PAUSE=0
unset IOC RUNTIME_DIR SUPPORT
"$bin" runtime start 2>"$work/log" || { cat "$work/log"; exit 1; }
records=$(grep -c '^record' "$work/epics/runtime/ioc.db")
hyperfine --warmup 3 --runs 30 --export-json "$work/h.json" -n "runtime start" "$bin runtime start 2>/dev/null" >&2
python3 - "$work/h.json" "$records" > "$here/results.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("# runtime start: process start to the exec of the IOC\n")
print("65 entities (areaDetector-sized: ports, controllers, axes, detectors with plugin banks),")
print(f"ioc.db of {sys.argv[2]} records expanded natively, autosave files written.")
print("IOC command /bin/true: the time is iocforge's own work plus one exec. Static musl build.")
print("Regenerate with `bench/start/run.sh`.\n")
print("| mean | min | max | target |")
print("|---|---|---|---|")
print(f"| {r['mean']*1000:.1f} ms | {r['min']*1000:.1f} ms | {r['max']*1000:.1f} ms | < 30 ms |")
ok = r["mean"] < 0.030
print("" if ok else "\n**target missed**")
sys.exit(0 if ok else 1)
PY
cat "$here/results.md"
