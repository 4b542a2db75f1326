#!/usr/bin/env bash
# `pattern check` and `pattern schema` timings (issue 13).
#
#   bench/pattern/run.sh      # writes bench/pattern/results.md
#
# 1. `pattern check` of an instance with 50 vendored files (vendored by each
#    tool from the same local library; identical locks required).
# 2. `pattern schema` of an instance whose base schema is cached: a loopback
#    server answers the revalidation with 304, as GitHub does for an
#    unchanged release asset (ibek runs through tests/pattern/ibek_oracle.py,
#    which points its fixed github.com URL at the server); the instance has
#    two vendored StreamDevice-sized support definitions of its own (the test
#    fixtures); identical schemas required.
# Whole-process wall time, mean of repeated runs; iocforge is the static musl
# release build. Fails unless both speed-ups reach 50x.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=${IOCFORGE_SHARED:-$root/../shared}
[ -d "$shared/conformance" ] || shared=/work/shared
tools=${IOCFORGE_TOOLS:-$root/.tools}
[ -x "$tools/ibek/bin/ibek" ] || "$root/.ci/setup"
rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1 || true
(cd "$root" && cargo build --release --locked --target x86_64-unknown-linux-musl >/dev/null 2>&1)
ours="$root/target/x86_64-unknown-linux-musl/release/iocforge"
py="$tools/ibek/bin/python"
ibek="$py $root/tests/pattern/ibek_oracle.py"
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# --- a library with one 50-file pattern, and two destinations
lib="$work/lib/bench50"
mkdir -p "$lib/db" "$lib/proto"
for i in $(seq 1 25); do
  python3 -c "import sys; print(''.join(f'record(ai, \"\$(P):AI{sys.argv[1]}_{j}\") {{ field(DTYP, \"stream\") }}\n' for j in range(40)))" "$i" > "$lib/db/dev$i.template"
  python3 -c "import sys; print(''.join(f'get{j} {{ out \"R{j}?\"; in \"%f\"; }}\n' for j in range(40)))" "$i" > "$lib/proto/dev$i.proto"
done
export IBEK_PATTERN_LIBRARIES="local=$work/lib" IBEK_SCHEMA_CACHE="$work/cache" HOME="$work"
unset HTTPS_PROXY HTTP_PROXY https_proxy http_proxy
mkdir -p "$work/check-ibek" "$work/check-ours"
$ibek pattern add local:bench50@1.0 "$work/check-ibek" >/dev/null
$ours pattern add local:bench50@1.0 "$work/check-ours" 2>/dev/null
cmp "$work/check-ibek/runtime-lock.yaml" "$work/check-ours/runtime-lock.yaml"
files=$(grep -c 'sha256:' "$work/check-ours/runtime-lock.yaml")
[ "$files" = 50 ]

# --- an instance with a cached base schema, served with 304 revalidation
defs=""
for m in asyn ADCore gauges motorSim; do defs="$defs $shared/conformance/ibek-samples/support/$m.ibek.support.yaml"; done
"$tools/ibek/bin/ibek" ioc generate-schema --no-ibek-defs $defs --output "$work/base.json"
cat > "$work/server.py" <<'PY'
import http.server, sys
body = open(sys.argv[1], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("If-None-Match") == '"bench"':
            self.send_response(304); self.end_headers(); return
        self.send_response(200)
        self.send_header("ETag", '"bench"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$work/server.py" "$work/base.json" > "$work/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
export PATTERN_TEST_BASE_URL="$url" IOCFORGE_SCHEMA_BASE_URL="$url"
for side in ibek ours; do
  d="$work/schema-$side/bl01t-ea-ioc-01"
  mkdir -p "$d/config"
  printf 'ioc-instance:\n  image: ghcr.io/epics-containers/ioc-bench-runtime:1.0.0\n' > "$d/values.yaml"
  printf 'ioc_name: bench\nentities: []\n' > "$d/config/ioc.yaml"
  cp "$root/tests/pattern/lakeshore340.ibek.support.yaml" "$root/tests/pattern/tpg300.ibek.support.yaml" "$d/config/"
done
IBEK_SCHEMA_CACHE="$work/cache-ibek" $ibek pattern schema "$work/schema-ibek/bl01t-ea-ioc-01" >/dev/null
IBEK_SCHEMA_CACHE="$work/cache-ours" $ours pattern schema "$work/schema-ours/bl01t-ea-ioc-01"
cmp "$work/schema-ibek/bl01t-ea-ioc-01/ioc.schema.json" "$work/schema-ours/bl01t-ea-ioc-01/ioc.schema.json"
cmp "$work/cache-ibek/ghcr.io/epics-containers/ioc-bench/1.0.0.json" "$work/cache-ours/ghcr.io/epics-containers/ioc-bench/1.0.0.json"

python3 - "$work" "$ours" "$py $root/tests/pattern/ibek_oracle.py" "$(wc -c < "$work/base.json")" > "$here/results.md" <<'PY'
import os, shlex, subprocess, sys, time
work, ours, ibek, base_size = sys.argv[1], sys.argv[2], shlex.split(sys.argv[3]), int(sys.argv[4])

def mean(cmd, env, runs):
    subprocess.run(cmd, env=env, check=True, capture_output=True)  # warm-up
    t0 = time.perf_counter()
    for _ in range(runs):
        subprocess.run(cmd, env=env, check=True, capture_output=True)
    return (time.perf_counter() - t0) / runs

env = dict(os.environ)
rows = []
for label, args_ibek, args_ours, env_ibek, env_ours in [
    ("`pattern check`, 50 vendored files",
     ["pattern", "check", f"{work}/check-ibek"], ["pattern", "check", f"{work}/check-ours"], env, env),
    (f"`pattern schema`, cached base schema ({base_size // 1024} KiB, 304 revalidation) + 2 vendored definitions",
     ["pattern", "schema", f"{work}/schema-ibek/bl01t-ea-ioc-01"], ["pattern", "schema", f"{work}/schema-ours/bl01t-ea-ioc-01"],
     dict(env, IBEK_SCHEMA_CACHE=f"{work}/cache-ibek"), dict(env, IBEK_SCHEMA_CACHE=f"{work}/cache-ours")),
]:
    a = mean(ibek + args_ibek, env_ibek, 5)
    b = mean([ours] + args_ours, env_ours, 50)
    rows.append((label, a, b))
print("# `pattern` commands\n")
print("Whole-process wall time, mean of 5 runs (ibek) and 50 runs (iocforge) after a")
print("warm-up run; iocforge is the static musl release build; both write identical")
print("files (checked before timing). Regenerate with `bench/pattern/run.sh`.\n")
print("| task | ibek 4.8.2 | iocforge | speed-up (target 50x) |")
print("|---|---|---|---|")
ok = True
for label, a, b in rows:
    print(f"| {label} | {a*1000:.0f} ms | {b*1000:.1f} ms | {a/b:.0f}x |")
    ok = ok and a / b >= 50
sys.exit(0 if ok else 1)
PY
cat "$here/results.md"
