#!/usr/bin/env bash
# The README's main-job command: builds iocforge and generates the boot files
# of the example IOC in examples/motion (st.cmd, ioc.subst), then shows them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --locked --manifest-path "$root/Cargo.toml" >&2
ex="$root/examples/motion"
out="$ex/runtime"
IOC_NAME=bl99i-mo-ioc-01 IOC=/epics/ioc RUNTIME_DIR=/epics/runtime \
  "$root/target/release/iocforge" runtime generate \
  "$ex/config/ioc.yaml" "$ex/ibek-defs/motorsim.ibek.support.yaml" -o "$out" --no-pvi
for f in st.cmd ioc.subst; do
  printf '\n==> %s <==\n' "$out/$f"
  cat "$out/$f"
done
