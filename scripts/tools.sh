#!/usr/bin/env bash
# The command-line tools the audio pipeline uses, from Debian's packages:
#   ffmpeg     decodes every upload format (WAV, MP3 and Ogg Opus also work without it)
#   espeak-ng  offline Vietnamese speech for text variants
#   opusenc    (opus-tools) the baseline of `npm run bench -- transcode`
#   chromium   the headless browser the dashboard's end-to-end tests drive (playwright-core)
# Installs only what is missing; says what it did. Idempotent.
set -euo pipefail

declare -A PACKAGE=([ffmpeg]=ffmpeg [ffprobe]=ffmpeg [espeak-ng]=espeak-ng [opusenc]=opus-tools [chromium]=chromium)
missing=()
for command in ffmpeg ffprobe espeak-ng opusenc chromium; do
  if command -v "$command" >/dev/null 2>&1; then continue; fi
  package=${PACKAGE[$command]}
  [[ " ${missing[*]-} " == *" $package "* ]] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "tools: ffmpeg, espeak-ng, opusenc and chromium present"
  exit 0
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -- "$@"; else
    echo "tools: need root (or sudo) to install ${missing[*]}" >&2
    exit 1
  fi
}
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tools: ${missing[*]} missing and apt-get not available; install them by hand" >&2
  exit 1
fi
echo "tools: installing ${missing[*]} (Debian packages)"
log=$(mktemp)
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
  echo "tools: apt-get install failed; trying after apt-get update" >&2
  as_root apt-get update >>"$log" 2>&1 || true
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    exit 1
  fi
fi
rm -f "$log"
echo "tools: installed ${missing[*]}"
