#!/usr/bin/env bash
# Whole-process benchmark of `runtime generate` with PVI on (ibek's default):
# ibek 4.8.2 + pvi 0.14.4 vs iocforge, on the real areaDetector instance of
# the shared corpus (p38-services bl38p-di-dcam-01: ADAravis with HDF5,
# TIFF, ROI, process and stats plugins; 7 PVI templates, 47 screens, 1 MB),
# and the same instance with --no-pvi to show what PVI costs each tool.
#
#   bench/pvi/run.sh            # writes bench/pvi/results.md
#
# Both tools must write identical st.cmd, ioc.subst, templates and screens
# first; then hyperfine times them and GNU time reads peak RSS.
# Targets (issue 10): >= 100x faster than ibek with pvi on, < 20 MB peak RSS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${IOCFORGE_SHARED:-$root/../shared}
[ -d "$shared/conformance" ] || shared=/work/shared
tools=${IOCFORGE_TOOLS:-$root/.tools}
[ -x "$tools/ibek/bin/ibek" ] || "$root/.ci/setup"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
(cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
ours="$root/target/x86_64-unknown-linux-musl/release/iocforge"
ibek="$tools/ibek/bin/ibek"
case_dir="$shared/conformance/real-world/pvi/p38-services__bl38p-di-dcam-01"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IOC=/epics/ioc RUNTIME_DIR=/epics/runtime IOC_NAME=bl38p-di-dcam-01
args="runtime generate instance/ioc.yaml defs/ADAravis.ibek.support.yaml defs/ADCore.ibek.support.yaml defs/epics.ibek.support.yaml defs/iocStats.ibek.support.yaml"

# an EPICS_ROOT per tool, with ibek-support's pvi-defs
for t in ibek ours; do
  mkdir -p "$work/$t/runtime" "$work/$t/opi"
  cp -r "$case_dir/pvi-defs" "$work/$t/pvi-defs"
done
(cd "$case_dir" && EPICS_ROOT="$work/ibek" $ibek $args -o "$work/out-ibek" >/dev/null 2>&1)
(cd "$case_dir" && EPICS_ROOT="$work/ours" $ours $args -o "$work/out-ours" --no-db)
for f in st.cmd ioc.subst; do
  cmp "$work/out-ibek/$f" "$work/out-ours/$f" || { echo "$f differs" >&2; exit 1; }
done
diff -r "$work/ibek/runtime" "$work/ours/runtime" >/dev/null || { echo "templates differ" >&2; exit 1; }
diff -r "$work/ibek/opi" "$work/ours/opi" >/dev/null || { echo "screens differ" >&2; exit 1; }
screens=$(ls "$work/ours/opi" | wc -l)
templates=$(ls "$work/ours/runtime" | wc -l)

peak_kb() { # median of 5 peak-RSS readings
  for _ in 1 2 3 4 5; do (cd "$case_dir" && /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1); done | sort -n | sed -n 3p
}

cd "$case_dir"
hyperfine --warmup 1 --runs 5 --export-json "$work/ibek.json" \
  -n "ibek pvi" "EPICS_ROOT=$work/ibek $ibek $args -o $work/h-ibek" \
  -n "ibek no-pvi" "EPICS_ROOT=$work/ibek $ibek $args -o $work/h-ibek --no-pvi" >&2
hyperfine --warmup 3 --runs 30 --export-json "$work/ours.json" \
  -n "iocforge pvi" "EPICS_ROOT=$work/ours $ours $args -o $work/h-ours --no-db" \
  -n "iocforge no-pvi" "EPICS_ROOT=$work/ours $ours $args -o $work/h-ours --no-db --no-pvi" >&2
ibek_kb=$(EPICS_ROOT="$work/ibek" peak_kb $ibek $args -o "$work/r-ibek")
ours_kb=$(EPICS_ROOT="$work/ours" peak_kb $ours $args -o "$work/r-ours" --no-db)

status=0
python3 - "$work/ibek.json" "$work/ours.json" "$ibek_kb" "$ours_kb" "$templates" "$screens" "$(nproc)" > "$work/results.md" <<'PY' || status=$?
import json, sys
t = {}
for f in sys.argv[1:3]:
    for r in json.load(open(f))["results"]:
        t[r["command"]] = r["mean"]
ibek_kb, ours_kb, templates, screens, cores = map(int, sys.argv[3:8])
speed = t["ibek pvi"] / t["iocforge pvi"]
print("# runtime generate with PVI: ibek 4.8.2 + pvi 0.14.4 vs iocforge\n")
print(f"Real areaDetector instance bl38p-di-dcam-01 (shared corpus): {templates} PVI templates,")
print(f"{screens} screens. Whole-process wall time (hyperfine, warm cache), peak RSS (GNU time,")
print(f"median of 5). iocforge is the static musl release build. Machine: {cores} cores.")
print("Both tools' outputs are checked identical first. Regenerate with `bench/pvi/run.sh`.\n")
print("| | ibek 4.8.2 | iocforge | speed-up |")
print("|---|---|---|---|")
print(f"| pvi on (default) | {t['ibek pvi']*1000:.0f} ms | {t['iocforge pvi']*1000:.1f} ms | {speed:.0f}x |")
print(f"| --no-pvi | {t['ibek no-pvi']*1000:.0f} ms | {t['iocforge no-pvi']*1000:.1f} ms | {t['ibek no-pvi']/t['iocforge no-pvi']:.0f}x |")
print(f"| cost of pvi | {(t['ibek pvi']-t['ibek no-pvi'])*1000:.0f} ms | {(t['iocforge pvi']-t['iocforge no-pvi'])*1000:.1f} ms | |")
print(f"| peak RSS, pvi on | {ibek_kb/1024:.1f} MB | {ours_kb/1024:.1f} MB | |")
print(f"\nTargets: >= 100x faster with pvi on, < 20 MB peak RSS.")
ok = speed >= 100 and ours_kb < 20 * 1024
print("" if ok else "\n**target missed**")
sys.exit(0 if ok else 1)
PY
cp "$work/results.md" "$here/results.md"
cat "$here/results.md"
exit $status
