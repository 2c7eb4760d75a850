#!/bin/sh
# The system packages that `kit build` and its tests need, installed when this machine allows.
#
# Named by the README's test command, so that the command works on a fresh Debian or Ubuntu
# machine with nothing installed by hand. If everything is already there it does nothing.
# As root it installs with apt-get; with password-less sudo, through sudo; otherwise it
# prints the exact command to run and stops with exit status 1.
#
#   libpango-1.0-0 libpangoft2-1.0-0   WeasyPrint's text layout
#   libharfbuzz-subset0                fast font subsetting (the PDFs are reproducible without it too)
#   fonts-inter fonts-dejavu-core      the guides' typefaces
#   poppler-utils qpdf                 independent PDF checks in the tests (pdffonts, qpdf --check)
#   chromium                           kit preview's end-to-end test in a real browser
set -eu

PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-inter fonts-dejavu-core poppler-utils qpdf chromium"

missing=""
for package in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "kit's tests need these system packages (Debian names):$missing" >&2
  echo "This machine has no apt-get: install their equivalents with its package manager, then run the tests again." >&2
  exit 1
fi

if [ "$(id -u)" = 0 ]; then
  run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  run="sudo -n"
else
  echo "kit's tests need these system packages:$missing" >&2
  echo "Install them, then run the tests again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
  exit 1
fi

echo "Installing system packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086 # one word per package
$run apt-get install -y -qq --no-install-recommends $missing >/dev/null
