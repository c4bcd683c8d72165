#!/usr/bin/env bash
# Fuzzes every decoder that takes bytes from the network (fuzz/fuzz_targets/*.rs) for
# SECONDS each (default 60), two targets at a time on the machine's cores. Needs the
# nightly toolchain (present on these machines) and cargo-fuzz (installed here if
# missing). New inputs that reach new code are added to fuzz/corpus/TARGET/; a crash
# leaves its input in fuzz/artifacts/TARGET/ and fails the run.
#   bash scripts/fuzz.sh          # 60 s per target, as CI runs it
#   bash scripts/fuzz.sh 3600     # an hour per target
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-60}

rustup toolchain list | grep -q '^nightly' || { echo "fuzzing needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; }
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --version =0.13.2 --locked --quiet
fi

targets=$(cargo +nightly fuzz list)
echo "== fuzz build ($(echo $targets | wc -w) targets)"
cargo +nightly fuzz build

run() {
  local t=$1 log
  log=$(mktemp)
  mkdir -p "corpus/$t"
  if cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 >"$log" 2>&1; then
    echo "fuzz $t: ok, $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$') runs in ${secs} s, corpus $(ls "corpus/$t" | wc -l)"
    rm -f "$log"
  else
    echo "fuzz $t: FAILED"; tail -40 "$log"; rm -f "$log"; return 1
  fi
}

failed=0
set -- $targets
while [ $# -gt 0 ]; do
  run "$1" & a=$!
  b=
  if [ $# -gt 1 ]; then run "$2" & b=$!; fi
  wait $a || failed=1
  if [ -n "$b" ]; then wait $b || failed=1; fi
  shift; [ $# -gt 0 ] && shift
done
exit $failed
