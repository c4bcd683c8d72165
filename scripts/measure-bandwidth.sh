#!/usr/bin/env bash
# Measures what the presenter sends for two workloads on a 1920x1080 Xvfb with one xterm
# (as in DESIGN.md's peer comparison): typing 10 characters a second, and text scrolling
# at 20 lines a second. Prints kB/s from the agent's own byte counter. Not a test: the
# figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins -q
B=./target/release/deskshare
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$work/display" 2>/dev/null &
until [ -s "$work/display" ]; do sleep 0.1; done
D=":$(cat "$work/display")"
$B serve --listen 127.0.0.1:0 --data "$work/data" >"$work/serve.log" 2>/dev/null &
until grep -q serving "$work/serve.log" 2>/dev/null; do sleep 0.1; done
URL=$(awk '/serving/{print $3}' "$work/serve.log")
export DESKSHARE_TOKEN=$(cat "$work/data/admin-token")
$B meeting create --server "$URL" --ca "$work/data/tls/cert.pem" --json >"$work/meeting.json"
J=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["join_url"])' "$work/meeting.json")
P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["presenter_url"])' "$work/meeting.json")

measure() { # name, seconds, command run in the xterm
  local name=$1 secs=$2 cmd=$3
  xterm -display "$D" -geometry 100x40+0+0 +bc -e bash -c "$cmd" &
  local xt=$!
  sleep 1.5
  $B share "$P" --display "$D" --ca "$work/data/tls/cert.pem" >"$work/$name.log" 2>/dev/null &
  local sh=$!
  $B view "$J" --ca "$work/data/tls/cert.pem" --stats >/dev/null 2>&1 &
  local vw=$!
  sleep 3
  local b0; b0=$(tail -1 "$work/$name.log" | sed 's/.*bytes=\([0-9]*\).*/\1/')
  if [ "$name" = typing ]; then
    DISPLAY=$D xdotool mousemove 200 200
    DISPLAY=$D xdotool type --delay 100 "$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 1 3))" &
  fi
  sleep "$secs"
  local b1; b1=$(tail -1 "$work/$name.log" | sed 's/.*bytes=\([0-9]*\).*/\1/')
  echo "$name: $(( (b1 - b0) / secs / 1000 )) kB/s over ${secs}s ($(( b1 - b0 )) bytes)"
  kill $sh $vw $xt 2>/dev/null; wait $sh $vw $xt 2>/dev/null || true
}
measure typing 10 "exec cat"
measure scrolling 10 "sleep 4.5; i=0; while true; do i=\$((i+1)); echo \"line \$i: the quick brown fox jumps over the lazy dog \$RANDOM\"; sleep 0.05; done"
