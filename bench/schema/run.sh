#!/usr/bin/env bash
# Schema generation and validation timings (issue 3).
#
#   bench/schema/run.sh      # writes bench/schema/results.md
#
# 1. `ioc generate-schema` over every distinct support file of the shared
#    corpus (30+ files): ibek 4.8.2 vs iocforge, identical JSON required.
# 2. `ioc validate` of a generated 500-entity instance (target < 50 ms).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${IOCFORGE_SHARED:-$root/../shared}
[ -d "$shared/conformance" ] || shared=/work/shared
"$root/.ci/setup"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
(cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
ours="$root/target/x86_64-unknown-linux-musl/release/iocforge"
ibek="$root/.tools/ibek/bin/ibek"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export EPICS_ROOT="$work/root" IOC_NAME=bench
mkdir -p "$work/defs" "$EPICS_ROOT"
# one file per module name: the newest real-world copy, else the ibek sample
for f in "$shared"/conformance/ibek-samples/support/*.ibek.support.yaml "$shared"/conformance/real-world/cases/*/defs/*.ibek.support.yaml; do
  case $(basename "$f") in bad_db.*|quadem_repeat.*|subentity_test.*|listarg.*|utils.*) continue;; esac
  cp "$f" "$work/defs/"
done
n=$(ls "$work/defs" | wc -l)
defs=$(ls "$work"/defs/*.yaml | tr '\n' ' ')
$ibek ioc generate-schema --no-ibek-defs $defs --output "$work/ibek.json"
$ours ioc generate-schema --no-ibek-defs $defs --output "$work/ours.json"
cmp "$work/ibek.json" "$work/ours.json"
hyperfine --warmup 1 --runs 5 --export-json "$work/gen.json" \
  -n ibek "$ibek ioc generate-schema --no-ibek-defs $defs --output $work/a.json" \
  -n iocforge "$ours ioc generate-schema --no-ibek-defs $defs --output $work/b.json" >&2
python3 "$root/bench/generate/make_large.py" "$work/large" 500
hyperfine --warmup 3 --runs 20 --export-json "$work/val.json" \
  -n "ioc validate (500 entities)" \
  "$ours ioc validate $work/large/ioc.yaml --definitions $work/large/bench.ibek.support.yaml" >&2
python3 - "$work/gen.json" "$work/val.json" "$n" > "$here/results.md" <<'PY'
import json, sys
gen = {r["command"]: r["mean"] for r in json.load(open(sys.argv[1]))["results"]}
val = json.load(open(sys.argv[2]))["results"][0]
speed = gen["ibek"] / gen["iocforge"]
print("# Schema generation and validation\n")
print("Whole-process wall time (hyperfine). iocforge is the static musl release build.")
print("Regenerate with `bench/schema/run.sh`.\n")
print("| task | ibek 4.8.2 | iocforge | speed-up / target |")
print("|---|---|---|---|")
print(f"| `ioc generate-schema` over {sys.argv[3]} support files (identical JSON) | {gen['ibek']*1000:.0f} ms | {gen['iocforge']*1000:.1f} ms | {speed:.0f}x (target 50x) |")
print(f"| `ioc validate`, 500 entities | | {val['mean']*1000:.1f} ms | target < 50 ms |")
ok = speed >= 50 and val["mean"] < 0.050
sys.exit(0 if ok else 1)
PY
cat "$here/results.md"
