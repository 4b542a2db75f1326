#!/usr/bin/env bash
# Whole-process benchmark of `runtime generate`: ibek 4.8.2 vs iocforge.
#
#   bench/generate/run.sh            # writes bench/generate/results.md
#
# Cases: the ibek quadem sample and a generated 500-entity IOC. Both tools
# must write identical files; then hyperfine times them and GNU time reads
# peak RSS. Targets (from issue 2): >= 50x faster, < 20 MB peak RSS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${IOCFORGE_SHARED:-$root/../shared}
[ -d "$shared/conformance" ] || shared=/work/shared
"$root/.ci/setup"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
(cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
ours="$root/target/x86_64-unknown-linux-musl/release/iocforge"
ibek="$root/.tools/ibek/bin/ibek"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export IOC=/epics/ioc RUNTIME_DIR=/epics/runtime IOC_NAME=bench-ioc EPICS_ROOT="$work/root"
mkdir -p "$EPICS_ROOT"
python3 "$here/make_large.py" "$work/large" 500
samples="$shared/conformance/ibek-samples"

declare -A dir args
dir[quadem]=$samples
args[quadem]="runtime generate iocs/quadem.ibek.ioc.yaml support/ADCore.ibek.support.yaml support/quadem.ibek.support.yaml --no-pvi"
dir[large500]=$work/large
args[large500]="runtime generate ioc.yaml bench.ibek.support.yaml --no-pvi"

peak_kb() { # median of 5 peak-RSS readings of a command run in $1
  local d=$1; shift
  for _ in 1 2 3 4 5; do (cd "$d" && /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1); done | sort -n | sed -n 3p
}

{
  echo "# runtime generate: ibek 4.8.2 vs iocforge"
  echo
  echo "Whole-process wall time (hyperfine, warm cache) and peak RSS (GNU time, median of 5)."
  echo "iocforge is the static musl release build. Machine: $(nproc) cores, $(uname -m)."
  echo "Regenerate with \`bench/generate/run.sh\`."
  echo
  echo "| case | top-level entities | ibek mean | iocforge mean | speed-up | ibek peak RSS | iocforge peak RSS |"
  echo "|---|---|---|---|---|---|---|"
} > "$work/results.md"

fail=0
for case in quadem large500; do
  d=${dir[$case]}
  (cd "$d" && $ibek ${args[$case]} -o "$work/out-ibek-$case" >/dev/null 2>&1)
  (cd "$d" && $ours ${args[$case]} -o "$work/out-ours-$case")
  for f in st.cmd ioc.subst; do
    cmp "$work/out-ibek-$case/$f" "$work/out-ours-$case/$f" || { echo "$case: $f differs" >&2; exit 1; }
  done
  (cd "$d" && hyperfine --warmup 2 --runs 10 --export-json "$work/$case.json" \
      -n ibek "$ibek ${args[$case]} -o $work/h-ibek" \
      -n iocforge "$ours ${args[$case]} -o $work/h-ours" >&2)
  ibek_kb=$(peak_kb "$d" $ibek ${args[$case]} -o "$work/r-ibek")
  ours_kb=$(peak_kb "$d" $ours ${args[$case]} -o "$work/r-ours")
  n=$(grep -c '^  - type' "$d/$( [ $case = quadem ] && echo iocs/quadem.ibek.ioc.yaml || echo ioc.yaml)")
  python3 - "$work/$case.json" "$case" "$n" "$ibek_kb" "$ours_kb" >> "$work/results.md" <<'PY' || fail=1
import json, sys
data = json.load(open(sys.argv[1]))["results"]
t = {r["command"]: r["mean"] for r in data}
case, n, ibek_kb, ours_kb = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
speed = t["ibek"] / t["iocforge"]
print(f"| {case} | {n} | {t['ibek']*1000:.0f} ms | {t['iocforge']*1000:.1f} ms | {speed:.0f}x | {ibek_kb/1024:.1f} MB | {ours_kb/1024:.1f} MB |")
ok = speed >= 50 and ours_kb < 20 * 1024
if not ok:
    print(f"{case}: target missed (speed-up {speed:.0f}x, {ours_kb} KB)", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
done
cp "$work/results.md" "$here/results.md"
cat "$here/results.md"
exit $fail
