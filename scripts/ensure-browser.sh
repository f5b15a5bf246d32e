#!/usr/bin/env bash
# The report page is tested in a real headless browser: Debian's chromium, driven by
# playwright-core (which never downloads a browser of its own). Installs it when missing and
# this machine can (root with apt-get); otherwise says how. CHROMIUM_PATH points elsewhere.
set -euo pipefail
path="${CHROMIUM_PATH:-/usr/bin/chromium}"
[[ -x "$path" ]] && exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "[browser] installing Debian's chromium for the report page test" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "error: the report page test needs Chromium at $path: install Debian's 'chromium' package or set CHROMIUM_PATH" >&2
exit 1
