#!/usr/bin/env bash
# Installs what a fresh machine lacks and builds hil. Idempotent and quick when nothing is missing.
#   bash scripts/setup.sh [--quiet] [--with-noise-data] [--with-speech-data]
# Debian packages come from scripts/deps.json (also read by `hil doctor`); npm packages from package-lock.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=0; groups="core"
for a in "$@"; do
  case "$a" in
    --quiet) quiet=1 ;;
    --with-noise-data) groups="$groups noise-data" ;;
    --with-speech-data) groups="$groups speech-data" ;;
    *) echo "setup.sh: unknown option $a (use --quiet, --with-noise-data, --with-speech-data)" >&2; exit 2 ;;
  esac
done
say() { [ "$quiet" = 1 ] || echo "setup: $*"; }

# 1. Debian packages
wanted=$(HIL_DEP_GROUPS="$groups" node -e '
  const d = require("./scripts/deps.json");
  const g = process.env.HIL_DEP_GROUPS.split(" ");
  console.log(d.tools.filter(t => g.includes(t.group)).flatMap(t => t.debian).join(" "));')
missing=""
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: run as root, or: sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

# 2. npm packages. tfjs-node is optional: its install script downloads libtensorflow, which fails on a
#    closed network; pointing it at a dead local port makes it fail at once instead of hanging.
#    Installed when the lock file's content differs from what was last installed (a stamp of its hash), not
#    by modification time: a fresh clone or a second work tree gives the lock file a new time without a
#    new content, and reinstalling wipes node_modules under anything that is running from it.
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat node_modules/.hil-lock-sha256 2>/dev/null)" != "$lock_sha" ]; then
  say "installing npm packages"
  TFJS_NODE_BASE_URI="${TFJS_NODE_BASE_URI:-http://127.0.0.1:1/}" npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock_sha" > node_modules/.hil-lock-sha256
fi

# 3. TypeScript → dist/, and the sim board's firmware.
say "building"
npx tsc -p tsconfig.json
make -s -C firmware sim >/dev/null
say "ready"
