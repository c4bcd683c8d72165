#!/usr/bin/env bash
# Many viewers of one meeting on this machine: for each N, `deskshare loadtest` joins N
# viewers to a meeting where `deskshare share` presents a full-screen 1920×1080 xterm
# that xdotool types into (10 characters a second), and this script samples the
# server's CPU and memory while they watch and while they leave.
#
#   bash scripts/measure-scale.sh                   N = 1 10 100 250 500 1000
#   SIZES="1 1000 2000" SECS=20 bash scripts/measure-scale.sh
#
# Prints one line per N (and writes JSON lines to $OUT, default /tmp/deskshare-scale.jsonl):
#   N, connected, time to connect all, updates/s per viewer (min/p10/median) and as a share
#   of the lone viewer's (N = 1), latency capture to receipt p50/p99, server CPU (% of one
#   core) and RSS while watching, RSS per viewer above the idle server, RSS after all left,
#   teardown time, and the longest /healthz answer during teardown.
# Needs ~1 GB of memory and 20 open files per viewer (ulimit -n) at the largest N.
set -euo pipefail
cd "$(dirname "$0")/.."

for p in xvfb xterm xdotool fonts-dejavu-core curl; do
  dpkg -s "$p" >/dev/null 2>&1 || NEED="${NEED:-} $p"
done
if [ -n "${NEED:-}" ]; then apt-get install -y -qq $NEED >/dev/null; fi

SIZES=${SIZES:-1 10 100 250 500 1000}
SECS=${SECS:-15}
OUT=${OUT:-/tmp/deskshare-scale.jsonl}
cargo build --release --bins -q -p deskshare
B=$PWD/target/release/deskshare
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
: >"$OUT"

f=$work/displayfd
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$f" >/dev/null 2>&1 & pids+=($!)
until [ -s "$f" ]; do sleep 0.1; done
D=":$(cat "$f")"
DISPLAY=$D xterm -fa "DejaVu Sans Mono" -fs 11 -geometry 200x58+0+0 +sb -bg white -fg black -e cat >/dev/null 2>&1 & pids+=($!)

$B serve --listen 127.0.0.1:0 --data "$work/data" --max-connections 8000 --max-connections-per-address 8000 \
  >"$work/serve.log" 2>&1 </dev/null & SERVER=$!
pids+=($SERVER)
until grep -q serving "$work/serve.log" 2>/dev/null; do sleep 0.1; done
URL=$(awk '/serving/{print $3}' "$work/serve.log")
export DESKSHARE_TOKEN; DESKSHARE_TOKEN=$(cat "$work/data/admin-token")
CA=(--ca "$work/data/tls/cert.pem")
$B admin policy set max-participants 100000 --server "$URL" "${CA[@]}" >/dev/null

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)
# The longest /healthz answer in ms while $1 (a pid) runs.
healthz_worst() {
  local worst=0 t
  while kill -0 "$1" 2>/dev/null; do
    t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 --cacert "$work/data/tls/cert.pem" "${URL}healthz" || echo 5)
    t=$(python3 -c "print(int(float('$t') * 1000))")
    [ "$t" -gt "$worst" ] && worst=$t
    sleep 0.05
  done
  echo "$worst"
}

lone=""
for N in $SIZES; do
  $B meeting create --server "$URL" "${CA[@]}" --json >"$work/m.json"
  J=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["join_url"])' "$work/m.json")
  P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["presenter_url"])' "$work/m.json")
  $B share "$P" --display "$D" "${CA[@]}" --allow-control never >"$work/share.log" 2>&1 & SH=$!
  sleep 2
  idle_rss=$(rss_kb "$SERVER")
  DISPLAY=$D xdotool mousemove 300 300
  # Typing stops between phrases (a killed xdotool could leave a key down, and X would
  # repeat it for ever).
  touch "$work/typing"
  (while [ -e "$work/typing" ]; do DISPLAY=$D xdotool type --delay 100 'the quick brown fox jumps over the lazy dog '; done) & TYPE=$!
  ramp=$(( N > 200 ? 200 : N ))
  $B loadtest "$J" "${CA[@]}" --viewers "$N" --duration "$SECS" --ramp "$ramp" --decode $(( N >= 3 ? 3 : N )) \
    --compare-display "$D" --json >"$work/load.json" 2>"$work/load.err" & LT=$!
  # Once every viewer is in (the loadtest says so), sample the measuring window.
  until grep -q measuring "$work/load.err" 2>/dev/null || ! kill -0 $LT 2>/dev/null; do sleep 0.1; done
  sleep 1
  t0=$(ticks "$SERVER")
  s0=$(date +%s.%N)
  sleep $(( SECS > 4 ? SECS - 3 : 1 ))
  cpu=$(python3 -c "import time; print(f'{($(ticks "$SERVER") - $t0) * 100 / $HZ / (time.time() - $s0):.0f}')")
  watch_rss=$(rss_kb "$SERVER")
  rm -f "$work/typing"; wait "$TYPE" 2>/dev/null || true
  # Teardown happens when the loadtest ends; /healthz is asked all along.
  worst=$(healthz_worst "$LT")
  wait "$LT" || true
  # The server gives freed memory back within ten seconds of a large drop.
  sleep 12
  after_rss=$(rss_kb "$SERVER")
  kill "$SH"; wait "$SH" 2>/dev/null || true
  cp "$work/share.log" "$work/share-$N.log"; cp "$work/load.err" "$work/load-$N.err"
  python3 - "$work/load.json" "$N" "$cpu" "$idle_rss" "$watch_rss" "$after_rss" "$worst" "${lone:-0}" "$OUT" <<'EOF'
import json, sys
path, n, cpu, idle, watch, after, worst, lone, out = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception:
    print(f"N={n}: loadtest wrote no report"); sys.exit(0)
n = int(n)
u = r["updates_per_s"]; l = r["latency_ms"]
per_viewer_kb = (int(watch) - int(idle)) / max(n, 1)
share = f"{100 * u['min'] / float(lone):.0f}%" if float(lone) > 0 else "-"
versions = r["versions_per_s"]
got = f"{100 * u['min'] / versions:.0f}%" if versions > 0 else "-"
row = dict(n=n, connected=r["connected"], connect_all_s=r["connect_all_s"], updates_min=u["min"],
           updates_p10=u["p10"], updates_median=u["median"], of_lone_min=share, versions_per_s=versions, of_versions_min=got, latency_p50=l["p50"],
           latency_p99=l["p99"], server_cpu_pct=int(cpu), server_rss_mb=int(watch) / 1024,
           kb_per_viewer=per_viewer_kb, rss_after_mb=int(after) / 1024, teardown_s=r["teardown_s"],
           healthz_worst_ms=int(worst), keyframes=r["keyframes"], at_last_frame=r["at_last_frame"],
           exact=r.get("exact"), decoders=r["decoders"], errors=r["errors"])
open(out, "a").write(json.dumps(row) + "\n")
c = r["connect_all_s"]
print(f"N={n:>5} in {r['connected']:>5} ({'-' if c is None else f'{c:.1f} s'}) "
      f"upd/s min {u['min']:.1f} p10 {u['p10']:.1f} med {u['median']:.1f} ({share} of lone, {got} of {versions:.1f} versions/s) "
      f"lat p50 {l['p50']:.0f} p99 {l['p99']:.0f} ms  cpu {cpu}%  rss {int(watch)/1024:.0f} MB "
      f"({per_viewer_kb:.0f} KB/viewer) after {int(after)/1024:.0f} MB  teardown {r['teardown_s']:.2f} s "
      f"healthz<= {worst} ms  keyframes {r['keyframes']} last {r['at_last_frame']} exact {r.get('exact')}/{r['decoders']} "
      f"errors {r['errors'] or 'none'}")
EOF
  if [ "$N" = 1 ]; then lone=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["updates_per_s"]["min"])' "$work/load.json"); fi
done
