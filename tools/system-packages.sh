#!/usr/bin/env bash
# Debian packages the bot and its tests use, installed where this can install them
# (root with apt-get); elsewhere it says what is missing and goes on: the bot still
# starts (scanned PDFs are skipped with a reason) and the tests that need a package
# are skipped with the install hint. Usage: tools/system-packages.sh (make setup runs it)
#   tesseract-ocr, tesseract-ocr-ara: OCR of scanned PDF pages (Arabic model)
#   fonts-noto-core: Arabic fonts the tests render their PDFs with
set -uo pipefail

PACKAGES=(tesseract-ocr tesseract-ocr-ara fonts-noto-core)
missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: not installed: ${missing[*]} (as root: apt-get install ${missing[*]});" \
         "scanned PDFs will be skipped and the tests that need them skipped" >&2
    exit 0
fi
echo "setup: installing ${missing[*]}" >&2
log=$(mktemp)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >"$log" 2>&1; then
    # The package lists may be missing or stale on a fresh machine: refresh once.
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >>"$log" 2>&1 \
        || { tail -5 "$log" >&2; echo "setup: could not install ${missing[*]}; going on" >&2; }
fi
rm -f "$log"
exit 0
