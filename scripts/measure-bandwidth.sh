#!/usr/bin/env bash
# Side by side, in one run: what deskshare and TigerVNC's Xvnc send a viewer for the same
# workloads on the same 1920x1080 screen, counted the same way.
#
#   bash scripts/measure-bandwidth.sh [SECONDS]      (default 15 s a workload)
#   WORKLOADS="typing scrolling" bash scripts/measure-bandwidth.sh    (some of them)
#
# Workloads, each on a fresh screen: typing 10 characters a second and text scrolling at
# 20 lines a second in a 200x58 xterm in DejaVu Sans Mono 11 (antialiased TrueType), and
# a 640x360 continuous-tone animation at 25 fps (ffplay of lavfi's mandelbrot, rendered
# once to a lossless clip) in a window.
#
# deskshare: an Xvfb with the X clients, `deskshare share` on it, `deskshare serve`, one
# `deskshare view`. Xvnc: the same X clients on Xvnc itself, the real TigerVNC viewer
# (on a second Xvfb), TLS (VeNCrypt TLSNone), ZRLE for text; for the animation also
# Tight + JPEG quality 6, its best lossy setting. Counters: the kernel's bytes on the
# viewer's TCP connection (`ss -ti`: received and sent, TLS included), updates the viewer
# drew, and CPU (% of one core) of the agent, the server and Xvnc. For the animation (a
# clip rendered once, losslessly) also: the PSNR of what the viewer shows while it plays
# against the clip frame it shows, the same way for both (deskshare's viewer writes its
# picture on SIGUSR1, Xvnc's viewer window is grabbed from its screen), and how long
# deskshare's viewer takes to be pixel-exact again once the animation stops.
# Not a test: the figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
for p in tigervnc-standalone-server tigervnc-viewer ffmpeg xvfb xterm xdotool fonts-dejavu-core iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release --bins -q -p deskshare -p deskshare-testkit
B=$PWD/target/release/deskshare
GRAB=$PWD/target/release/ds-grab
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; kill -CONT "$p" 2>/dev/null || true; done; sleep 0.3; rm -rf "$work"; }
trap cleanup EXIT
bg() { "$@" & pids+=($!); }

FONT=(-fa "DejaVu Sans Mono" -fs 11 -geometry 200x58+0+0 +sb -bg white -fg black)
TYPE_TEXT=$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 1 40))
SCROLL='i=0; while true; do i=$((i+1)); echo "line $i: the quick brown fox jumps over the lazy dog $RANDOM"; sleep 0.05; done'

# Bytes on the TCP connection of process $1: "received sent".
conn_bytes() {
  ss -tinpH state established 2>/dev/null | python3 -c '
import re, sys
pid = sys.argv[1]; rx = tx = 0; hit = False
for line in sys.stdin:
    if "users:" in line:
        hit = ("pid=%s," % pid) in line
    if hit:
        m = re.search(r"bytes_received:(\d+)", line); rx += int(m.group(1)) if m else 0
        m = re.search(r"bytes_acked:(\d+)", line); tx += int(m.group(1)) if m else 0
print(rx, tx)' "$1"
}
# The animation is a clip rendered once, losslessly (FFV1), so every frame a viewer shows
# can be compared with the frame it shows: ffplay plays it in a loop.
CLIP=$work/mandelbrot.mkv
if [[ " ${WORKLOADS:-animation} " == *" animation "* ]]; then
  ffmpeg -loglevel error -f lavfi -i "mandelbrot=size=640x360:rate=25" -t 20 -c:v ffv1 "$CLIP"
fi
# The viewer's picture of the animation as a 640x360 PNG ($3): its window at (600, 300) of
# the screen, found in the viewer's picture $2 by the shift at which the terminal text
# beside it (the source's, $1) differs least (a viewer window need not sit at its
# screen's corner).
crop_animation() {
  python3 - "$1" "$2" "$3" <<'PY'
import subprocess, sys
def rgb(path):
    return subprocess.run(["ffmpeg", "-loglevel", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          check=True, capture_output=True).stdout
W = 1920
src, view = rgb(sys.argv[1]), rgb(sys.argv[2])
row = lambda img, y, x0, x1: img[(y * W + x0) * 3:(y * W + x1) * 3]
best = None
for dy in range(0, 48):
    for dx in range(0, 4):
        sad = 0
        for y in range(60, 280, 8):
            a, b = row(src, y, 0, 560), row(view, y + dy, dx, 560 + dx)
            sad += sum(abs(a[i] - b[i]) for i in range(0, len(a), 7))
        if best is None or sad < best[0]:
            best = (sad, dx, dy)
_, dx, dy = best
subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", sys.argv[2], "-vf", f"crop=640:360:{600 + dx}:{300 + dy}",
                sys.argv[3]], check=True)
PY
}
# PSNR (dB, RGB) of a 640x360 picture against the clip frame it is (the best match).
match_psnr() {
  ffmpeg -hide_banner -i "$CLIP" -loop 1 -i "$1" -lavfi \
    "[0:v]format=rgb24[a];[1:v]format=rgb24[b];[a][b]psnr=stats_file=-:shortest=1" -f null - 2>/dev/null |
    sed -n 's/.*psnr_avg:\([0-9.inf]*\).*/\1/p' |
    python3 -c 'import sys; v = [float(x) for x in sys.stdin.read().split()]; print(f"{max(v):.1f}" if v else "?")'
}
# While the animation plays: three times, 0.4 s apart, what the viewer shows against the
# clip frame it shows; prints the mean PSNR. $1 source display, $2 command that writes the
# viewer's picture to $3.
playing_psnr() {
  local all="" i db
  for i in 1 2 3; do
    "$GRAB" "$1" "$work/source.png" >/dev/null
    rm -f "$3"
    eval "$2"
    for _ in $(seq 1 50); do [ -s "$3" ] && break; sleep 0.02; done
    crop_animation "$work/source.png" "$3" "$work/shown.png"
    db=$(match_psnr "$work/shown.png")
    all="$all $db"
    sleep 0.4
  done
  python3 -c "import sys; v = [float(x) for x in sys.argv[1:]]; print(f'{sum(v) / len(v):.1f}')" $all
}
# CPU ticks (user+system) of a process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)

# Starts the workload $1 on display $2; its pids go to WL.
workload() {
  local what=$1 d=$2
  WL=()
  case $what in
    typing)
      DISPLAY=$d xterm "${FONT[@]}" -e cat >/dev/null 2>&1 & WL+=($!)
      ;;
    scrolling)
      DISPLAY=$d xterm "${FONT[@]}" -e bash -c "sleep 3; $SCROLL" >/dev/null 2>&1 & WL+=($!)
      ;;
    animation)
      DISPLAY=$d xterm "${FONT[@]}" -e bash -c 'ls -l /usr/bin | head -50; exec cat' >/dev/null 2>&1 & WL+=($!)
      SDL_AUDIODRIVER=dummy DISPLAY=$d ffplay -loglevel quiet -an -noborder -left 600 -top 300 \
        -loop 0 "$CLIP" >/dev/null 2>&1 & WL+=($!)
      ;;
  esac
  pids+=("${WL[@]}")
}

# Runs typing input during the window (for the typing workload).
drive() {
  local what=$1 d=$2
  if [ "$what" = typing ]; then
    DISPLAY=$d xdotool mousemove 300 300
    DISPLAY=$d timeout "$((SECS + 1))" xdotool type --delay 100 "$TYPE_TEXT" &
    pids+=($!)
  fi
}

# Measures one window: $1 viewer pid, $2.. pids whose CPU to report. Prints
# "rx_bytes tx_bytes cpu%..." over SECS seconds.
window() {
  local viewer=$1; shift
  read -r rx0 tx0 < <(conn_bytes "$viewer")
  local t0=() p
  for p in "$@"; do t0+=("$(ticks "$p")"); done
  sleep "$SECS"
  read -r rx1 tx1 < <(conn_bytes "$viewer")
  local out="$((rx1 - rx0)) $((tx1 - tx0))" i=0
  for p in "$@"; do
    out="$out $(python3 -c "print(f'{($(ticks "$p") - ${t0[$i]}) * 100 / $HZ / $SECS:.1f}')")"
    i=$((i + 1))
  done
  echo "$out"
}

new_xvfb() { # sets XD to the new display
  local f=$work/displayfd.$RANDOM
  Xvfb -displayfd 3 -screen 0 "$1" -nolisten tcp 3>"$f" >/dev/null 2>&1 & pids+=($!)
  until [ -s "$f" ]; do sleep 0.1; done
  XD=":$(cat "$f")"
}

$B serve --listen 127.0.0.1:0 --data "$work/data" >"$work/serve.log" 2>&1 </dev/null & SERVER=$!
pids+=($SERVER)
until grep -q serving "$work/serve.log" 2>/dev/null; do sleep 0.1; done
URL=$(awk '/serving/{print $3}' "$work/serve.log")
export DESKSHARE_TOKEN; DESKSHARE_TOKEN=$(cat "$work/data/admin-token")
CA=(--ca "$work/data/tls/cert.pem")

results=$work/results
# deskshare_run WORKLOAD [LABEL [SHARE ARGS...]]
deskshare_run() {
  local what=$1 label=${2:-deskshare}
  local extra=("${@:3}")
  $B meeting create --server "$URL" "${CA[@]}" --json >"$work/m.json"
  local J P
  J=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["join_url"])' "$work/m.json")
  P=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["presenter_url"])' "$work/m.json")
  new_xvfb 1920x1080x24
  local d=$XD
  workload "$what" "$d"
  local wl=("${WL[@]}")
  sleep 2
  $B share "$P" --display "$d" "${CA[@]}" --allow-control never "${extra[@]}" >"$work/share.log" 2>&1 & local sh=$!
  # Each stats line gets the time it came, to time the refinement after the animation.
  $B view "$J" "${CA[@]}" --stats --dump "$work/dump.png" 2>/dev/null \
    > >(python3 -u -c 'import sys, time
for l in sys.stdin: print(f"{time.time():.3f} {l}", end="", flush=True)' >"$work/view.log") & local vw=$!
  local started; started=$(date +%s.%N)
  sleep 4
  drive "$what" "$d"
  read -r rx tx cpu_agent cpu_server < <(window "$vw" "$sh" "$SERVER")
  local copies; copies=$(grep ' stats ' "$work/view.log" | tail -1 | sed -n 's/.* copies=\([0-9]*\).*/\1/p')
  local lossy; lossy=$(grep ' stats ' "$work/view.log" | tail -1 | sed -n 's/.* lossy=\([0-9]*\).*/\1/p')
  # Updates over the whole connection, counted the way Xvnc's are (its log has only a total).
  local frames; frames=$(grep ' stats ' "$work/view.log" | tail -1 | sed -n 's/.* stats frames=\([0-9]*\).*/\1/p')
  local secs; secs=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  local exact=""
  if [ "$what" = animation ]; then
    local db; db=$(playing_psnr "$d" "kill -USR1 $vw" "$work/dump.png")
    # The animation stops (ffplay frozen, its last frame stays): how long until the
    # viewer is pixel-exact again (its stats line with lossy_tiles=0)?
    local stopped; stopped=$(date +%s.%N)
    kill -STOP "${wl[1]}"
    local at=""
    for _ in $(seq 1 100); do
      sleep 0.1
      at=$(awk -v t="$stopped" '$1 > t && / lossy_tiles=0/ {print $1; exit}' "$work/view.log")
      [ -n "$at" ] && break
    done
    exact=" psnr_db=$db exact_after_stop_ms=$(python3 -c "print(round(($at - $stopped) * 1000) if '$at' else 'never')")"
    kill -CONT "${wl[1]}"
  fi
  echo "$label $what $rx $tx $frames/$secs agent=$cpu_agent server=$cpu_server copies=$copies lossy=$lossy$exact" >>"$results"
  kill $sh $vw "${wl[@]}" 2>/dev/null || true
  wait $sh $vw 2>/dev/null || true
}

xvnc_run() {
  local what=$1 enc=$2 label=$3
  local port=$((5900 + RANDOM % 1000))
  local n=$((40 + RANDOM % 100))
  Xvnc ":$n" -geometry 1920x1080 -depth 24 -rfbport "$port" -SecurityTypes TLSNone \
    -nolisten tcp -AlwaysShared -Log '*:stderr:30' >"$work/xvnc.log" 2>&1 & local xv=$!
  pids+=($xv)
  sleep 1.5
  workload "$what" ":$n"
  local wl=("${WL[@]}")
  sleep 2
  new_xvfb 1920x1080x24
  local vd=$XD
  # RemoteResize off: the viewer would otherwise shrink the remote screen to its window.
  DISPLAY=$vd xtigervncviewer -SecurityTypes TLSNone -AutoSelect=0 $enc -Shared -RemoteResize=0 \
    "127.0.0.1::$port" >"$work/vncviewer.log" 2>&1 & local vw=$!
  local started; started=$(date +%s.%N)
  sleep 4
  drive "$what" ":$n"
  read -r rx tx cpu_xvnc < <(window "$vw" "$xv")
  local db=""
  if [ "$what" = animation ]; then
    # The viewer window sits at the top-left of its own screen, one pixel per pixel.
    db=" psnr_db=$(playing_psnr ":$n" "$GRAB $vd $work/viewer.png >/dev/null" "$work/viewer.png")"
    [ -n "${KEEP_LOGS:-}" ] && cp "$work/shown.png" "$KEEP_LOGS/xvnc-$label-shown.png"
  fi
  kill $vw 2>/dev/null || true
  wait $vw 2>/dev/null || true
  local secs; secs=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
  sleep 1 # Xvnc logs the connection's totals when it closes
  local updates; updates=$(sed -n 's/.*Framebuffer updates: \([0-9]*\).*/\1/p' "$work/xvnc.log" | tail -1)
  # "Copies: 2.02 krects": TigerVNC scales big counts.
  local copyrects; copyrects=$(sed -n 's/.*Copies: \([0-9.]*\) *\([kM]*\)rects.*/\1\2/p' "$work/xvnc.log" | tail -1)
  echo "xvnc-$label $what $rx $tx ${updates:-0}/$secs xvnc=$cpu_xvnc copyrects=${copyrects:-0}$db" >>"$results"
  [ -n "${KEEP_LOGS:-}" ] && cp "$work/xvnc.log" "$KEEP_LOGS/xvnc-$label-$what.log"
  kill "${wl[@]}" $xv 2>/dev/null || true
  wait $xv 2>/dev/null || true
}

for what in ${WORKLOADS:-typing scrolling animation}; do
  deskshare_run "$what"
  xvnc_run "$what" "-PreferredEncoding=ZRLE -FullColor" zrle
  if [ "$what" = animation ]; then
    xvnc_run "$what" "-PreferredEncoding=Tight -QualityLevel=6 -NoJPEG=0" tight-jpeg6
    # Xvnc Tight's bytes to the viewer in this run, as a video bitrate for deskshare.
    kbps=$(awk -v s="$SECS" '$1 == "xvnc-tight-jpeg6" && $2 == "animation" {printf "%d", $3 * 8 / 1000 / s}' "$results")
    deskshare_run "$what" deskshare-at-xvnc-bytes --video-kbps "$kbps"
  fi
done

python3 - "$results" "$SECS" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
secs = int(sys.argv[2])
def rate(b): 
    b = int(b) / secs
    return f"{b/1e6:.2f} MB/s" if b >= 1e6 else f"{b/1e3:.2f} kB/s"
print(f"\nover {secs} s a workload, 1920x1080; bytes on the viewer's TCP connection (TLS included) and CPU\nin that window; updates/s and copies over the whole connection (Xvnc logs only totals)\n")
print("| workload | product | to viewer | from viewer | updates/s | CPU (% of a core); copies |")
print("|---|---|---|---|---|---|")
by = {}
for r in rows:
    who, what, rx, tx, upd = r[:5]
    n, s = upd.split("/")
    print(f"| {what} | {who} | {rate(rx)} | {rate(tx)} | {int(n or 0)/float(s):.1f} | {' '.join(r[5:])} |")
    by[(what, who)] = int(rx) + int(tx)
print()
for what in ["typing", "scrolling", "animation"]:
    d, z = by.get((what, "deskshare")), by.get((what, "xvnc-zrle"))
    if d and z:
        print(f"{what}: deskshare / Xvnc ZRLE = {d / z:.2f} (both directions)")
EOF
