#!/usr/bin/env bash
# Whole-process benchmark of `services check --all` on a generated repository
# of N IOC services (default 200), against today's services CI loop with ibek
# (`ibek runtime generate2` per IOC, the check `ci_verify.sh` runs inside each
# image, here without docker, so the baseline is the cheaper one).
#
#   bench/services/run.sh [N]          # writes bench/services/results.md
#
# The definitions are the shared samples' epics, asyn and motorSim, given by
# --definitions (standing in for definitions extracted once per cached image).
# IOCFORGE_BIN picks the iocforge binary (default: the static musl release build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-200}
shared=${IOCFORGE_SHARED:-$root/../shared}
[ -d "$shared/conformance" ] || shared=/work/shared
tools=${IOCFORGE_TOOLS:-$root/.tools}
[ -x "$tools/ibek/bin/ibek" ] || "$root/.ci/setup"
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null
if [ -z "${IOCFORGE_BIN:-}" ]; then
  rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
  (cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
  IOCFORGE_BIN="$root/target/x86_64-unknown-linux-musl/release/iocforge"
fi
ours=$IOCFORGE_BIN
ibek="$tools/ibek/bin/ibek"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_repo.py" "$work/repo" "$n" "$shared/conformance/ibek-samples"
defs="$work/repo/ibek-defs"
export EPICS_ROOT="$work/epics" IOC=/epics/ioc RUNTIME_DIR=/epics/runtime IOC_NAME=bench-ioc
mkdir -p "$EPICS_ROOT"

"$ours" services check "$work/repo" --all --definitions "$defs" >/dev/null
hyperfine --warmup 1 --runs 5 --export-json "$work/ours.json" \
  -n iocforge "$ours services check $work/repo --all --definitions $defs" >&2

# the per-service loop, once (it takes minutes); every IOC must generate
loop() {
  for svc in "$work"/repo/services/*/; do
    args=()
    for d in "$defs"/*.ibek.support.yaml; do args+=(--definitions "$d"); done
    "$ibek" runtime generate2 "$svc/config" "${args[@]}" --no-pvi -o "$work/out" >/dev/null 2>&1
  done
}
start=$(date +%s.%N)
loop
end=$(date +%s.%N)

python3 - "$work/ours.json" "$start" "$end" "$n" "$(nproc)" "${ours#$root/}" > "$here/results.md" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
ours, user = result["mean"], result["user"]
loop = float(sys.argv[3]) - float(sys.argv[2])
n, cores, binary = int(sys.argv[4]), sys.argv[5], sys.argv[6]
print("# services check --all: one process against a per-service ibek loop\n")
print(f"A generated repository of {n} IOC services (motorSim instances, symlinked")
print("Chart.yaml and templates, shared values); definitions by --definitions.")
print("iocforge: `services check --all` (YAML, ConfigMap size, generate2 of each")
print("config/), hyperfine mean of 5. Baseline: `ibek runtime generate2` per IOC in")
print("a shell loop, as services CI runs it inside each image (here without docker")
print(f"or image pulls, so the real CI is slower still), one run. Machine: {cores} cores.")
print(f"iocforge binary: `{binary}` (user CPU {user:.2f} s a run).")
print("Regenerate with `bench/services/run.sh`.\n")
print("| services | ibek loop | iocforge services check | ratio |")
print("|---|---|---|---|")
print(f"| {n} | {loop:.1f} s | {ours*1000:.0f} ms | {loop/ours:.0f}x |")
PY
cat "$here/results.md"
