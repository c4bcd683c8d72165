#!/usr/bin/env bash
# Runs every deskshare test on a fresh Debian machine: installs what the tests need
# (Xvfb, X clients, Debian chromium, node packages, cargo-fuzz), builds, then runs the
# Rust tests (unit, property and end-to-end on real Xvfb), the web type check, the
# browser tests and a minute of fuzzing per network decoder.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the tests start: an X server, real X clients, xrandr, a browser, fonts
# (DejaVu Sans Mono: the antialiased TrueType terminal of the codec tests), ffmpeg (ffplay:
# a real animation for the lossy path), libvpx7 (VP8 for the video mode, loaded at run time),
# and the network parts of the connectivity tests: tinyproxy (a CONNECT proxy), nginx (a
# reverse proxy), iptables (a filtered port), iproute2 (a namespace whose only way out is
# the proxy), and xdg-utils (xdg-open, as a browser opens a deskshare: link).
packages=(xvfb xauth xfonts-base fonts-dejavu-core xterm xdotool x11-xserver-utils chromium ffmpeg libvpx7
  tinyproxy nginx-light iptables iproute2 xdg-utils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v node >/dev/null || { echo "node is required (Debian package nodejs)"; exit 1; }

# Chromium asks before a page opens a deskshare: link, in a dialog a headless browser
# cannot answer. A managed policy lets pages on 127.0.0.1 open them directly, as an
# organisation would allow its own server (web-tests/tests/share-desktop.test.js).
policy=/etc/chromium/policies/managed/deskshare-tests.json
if [ ! -f "$policy" ]; then
  as_root mkdir -p "$(dirname "$policy")"
  echo '{"AutoLaunchProtocolsFromOrigins": [{"protocol": "deskshare", "allowed_origins": ["127.0.0.1"]}]}' | as_root tee "$policy" >/dev/null
fi

echo "== node packages (playwright-core, typescript)"
(cd web-tests && npm ci --no-audit --no-fund --loglevel=error)

echo "== build"
cargo build --workspace --bins --tests --locked

echo "== web type check (tsc --checkJs)"
(cd web-tests && npx --no-install tsc -p ../web/jsconfig.json)

log=$(mktemp)
# Saved sign-ins of the person running the tests must not leak into them.
export DESKSHARE_CONFIG=$(mktemp -d)
unset DESKSHARE_TOKEN DESKSHARE_PASSCODE
trap 'rm -rf "$log" "$DESKSHARE_CONFIG"' EXIT

echo "== rust tests"
cargo test --workspace --locked 2>&1 | tee -a "$log"

echo "== browser tests (headless chromium)"
(cd web-tests && node --test --test-concurrency=1 tests/) 2>&1 | tee -a "$log"

echo "== fuzzing (every network decoder, 60 s each)"
bash scripts/fuzz.sh 60 2>&1 | tee -a "$log"

# One closing line for the whole run (each runner above fails the script on its own).
rust=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
web=$(grep -Eo '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
fuzz=$(grep -Ec '^fuzz [a-z_]+: ok' "$log")
echo "all tests: $((rust + web + fuzz)) passed, 0 failed"
