#!/usr/bin/env bash
# Build the image for real and check it: answers from the seeds inside the
# container, runs as non-root, passes its HEALTHCHECK; a document added to the
# collection survives recreating the container (the /data volume); the bot, polling
# the test Bot API emulator on 127.0.0.1, stops cleanly on `docker stop` and starts
# and answers again over an intact store. Usage: make docker-test (after make setup)
#
# On a machine without a Docker engine this installs Debian's docker.io and starts
# dockerd by hand (needs root). Without a reachable image registry the base image is
# made offline with debootstrap (bookworm, Python 3.11) and passed as BASE_IMAGE.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-arabic-qa-bot:test}
BASE_IMAGE=${BASE_IMAGE:-}
LOCAL_BASE=local/bookworm-python:base
DOCKER=/usr/bin/docker            # Debian's client: BuildKit built in
WORK=${DOCKER_TEST_WORK:-/tmp/arabic-qa-docker}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
NAME=arabic-qa-test-$$
BOT=$NAME-bot
VOLUME=$NAME-data
EMULATOR_PID=
SEED_QUESTION="متى تبدأ زيارة لافروف؟"
UPLOAD_QUESTION="متى يقام مهرجان الزعفران الذهبي في واحة تلوين؟"

die() { echo "docker-test: $*" >&2; exit 1; }
step() { echo "docker-test: $*" >&2; }

ensure_engine() {
    if [ -x "$DOCKER" ] && "$DOCKER" info >/dev/null 2>&1; then return; fi
    [ "$(id -u)" = 0 ] || die "no Docker engine running and not root: cannot install or start one"
    if ! command -v dockerd >/dev/null 2>&1 || [ ! -x "$DOCKER" ]; then
        step "installing Debian's docker.io"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >"$WORK/apt.log" 2>&1 \
            || { tail -20 "$WORK/apt.log" >&2; die "apt-get install docker.io failed"; }
    fi
    step "starting dockerd"
    nohup dockerd --pidfile "$WORK/dockerd.pid" >"$WORK/dockerd.log" 2>&1 &
    for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && return; sleep 1; done
    tail -20 "$WORK/dockerd.log" >&2
    die "dockerd did not start within 60 s"
}

ensure_base() {
    if [ -n "$BASE_IMAGE" ]; then return; fi
    if "$DOCKER" image inspect "$LOCAL_BASE" >/dev/null 2>&1; then BASE_IMAGE=$LOCAL_BASE; return; fi
    if "$DOCKER" pull -q python:3.12-slim >/dev/null 2>&1; then BASE_IMAGE=python:3.12-slim; return; fi
    step "no registry: making $LOCAL_BASE with debootstrap (about a minute)"
    command -v debootstrap >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >>"$WORK/apt.log" 2>&1 \
        || die "cannot install debootstrap"
    local mirror rootfs="$WORK/rootfs"
    mirror=$(grep -h -m1 -E '^(URIs:|deb )' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null \
        | grep -o -E 'https?://[^ ]+' | head -1 || true)
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
        "${mirror:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1 \
        || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    tar -C "$rootfs" -c . | "$DOCKER" import - "$LOCAL_BASE" >/dev/null
    rm -rf "$rootfs"
    BASE_IMAGE=$LOCAL_BASE
}

cleanup() {
    "$DOCKER" rm -f "$NAME" "$BOT" >/dev/null 2>&1 || true
    [ -z "$EMULATOR_PID" ] || kill "$EMULATOR_PID" 2>/dev/null || true
    "$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
}

# wait_healthy CONTAINER: until its HEALTHCHECK passes (fail if it stops or stays unhealthy).
wait_healthy() {
    step "waiting for the health check of $1"
    local status=starting
    for _ in $(seq 90); do
        status=$("$DOCKER" inspect --format '{{.State.Health.Status}}' "$1")
        [ "$status" = healthy ] && return
        [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$1")" = true ] \
            || { "$DOCKER" logs "$1" >&2; die "$1 stopped"; }
        sleep 1
    done
    "$DOCKER" logs "$1" >&2
    die "health check of $1: $status"
}

# answers CONTAINER QUESTION SOURCE: the first result of `ask --json` comes from SOURCE.
answers() {
    local answer
    answer=$("$DOCKER" exec "$1" python -m bot ask --json "$2")
    python3 - "$answer" "$3" <<'PY' || die "unexpected answer in $1: $answer"
import json, sys
assert json.loads(sys.argv[1])["results"][0]["source"] == sys.argv[2]
PY
}

mkdir -p "$WORK"
ensure_engine
ensure_base
trap cleanup EXIT

step "building $IMAGE on $BASE_IMAGE"
secret=()
[ -s "$CA_BUNDLE" ] && secret=(--secret "id=ca,src=$CA_BUNDLE")
DOCKER_BUILDKIT=1 "$DOCKER" build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" "${secret[@]}" \
    -t "$IMAGE" . >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "docker build failed"; }

step "starting a container without a Telegram token"
"$DOCKER" run -d --name "$NAME" --network host -v "$VOLUME:/data" \
    --health-interval 2s --health-start-period 5s --health-retries 3 \
    "$IMAGE" sleep infinity >/dev/null

wait_healthy "$NAME"
uid=$("$DOCKER" exec "$NAME" id -u)
[ "$uid" != 0 ] || die "the container runs as root"

answers "$NAME" "$SEED_QUESTION" 001_29605565af34d15c.txt
# The reranker's model file ships in the image (without it RERANK=1 falls back with a warning).
"$DOCKER" exec "$NAME" python -m bot ask --rerank --json "$SEED_QUESTION" >/dev/null 2>"$WORK/rerank.log" \
    || { cat "$WORK/rerank.log" >&2; die "ask --rerank failed"; }
! grep -q "BM25 order" "$WORK/rerank.log" || { cat "$WORK/rerank.log" >&2; die "no reranker model in the image"; }

step "ok: healthy, uid $uid, answers from the seeds (also reranked)"

step "a scanned PDF (no text layer) is read by OCR inside the container"
.venv/bin/python - "$WORK/scan.pdf" <<'PY' || die "cannot make the scanned test PDF"
import sys, tempfile
from pathlib import Path
from benchmarks.producers import Doc, pdf_reportlab, pdf_scanned
doc = Doc("مرصد الصحراء", ["افتتح مرصد الصحراء الفلكي قرب واحة سيوة في ربيع عام ألفين وعشرة.",
                           "ويستقبل المرصد الزوار كل ليلة خميس لمشاهدة كوكب زحل بالتلسكوب الكبير."])
with tempfile.TemporaryDirectory() as tmp:
    pdf_scanned(pdf_reportlab(doc, Path(tmp, "text.pdf")), Path(sys.argv[1]), dpi=300)
PY
"$DOCKER" cp "$WORK/scan.pdf" "$NAME:/data/corpus/scan.pdf"
"$DOCKER" exec "$NAME" python -m bot index >"$WORK/ocr-index.log" 2>&1 \
    || { cat "$WORK/ocr-index.log" >&2; die "index with a scanned PDF failed"; }
grep -q "by OCR: 1" "$WORK/ocr-index.log" || { cat "$WORK/ocr-index.log" >&2; die "the scanned page was not OCR'd"; }
answer=$("$DOCKER" exec "$NAME" python -m bot ask --json "متى افتتح مرصد الصحراء الفلكي؟")
python3 - "$answer" <<'PY' || die "no answer from the scanned PDF: $answer"
import json, sys
first = json.loads(sys.argv[1])["results"][0]
assert first["source"] == "scan.pdf" and first["page"] == 1, first
PY
"$DOCKER" exec "$NAME" rm /data/corpus/scan.pdf
step "ok: the scanned PDF answers through OCR, with its page"

step "adding a document to the collection, then recreating the container"
"$DOCKER" exec -i "$NAME" sh -c 'cat > "$CORPUS_DIR/saffron.txt"' <<'TXT'
مهرجان الزعفران الذهبي

يقام مهرجان الزعفران الذهبي في واحة تلوين كل عام في الأسبوع الأول من شهر نوفمبر.
TXT
"$DOCKER" rm -f "$NAME" >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python -m tests.telegram_emulator --port "$port" >"$WORK/emulator.log" 2>&1 &
EMULATOR_PID=$!
token=$(.venv/bin/python -c 'from tests.telegram_emulator import DEFAULT_TOKEN; print(DEFAULT_TOKEN)')
"$DOCKER" run -d --name "$BOT" --network host -v "$VOLUME:/data" \
    --health-interval 2s --health-start-period 5s --health-retries 3 \
    -e TELEGRAM_BOT_TOKEN="$token" -e TELEGRAM_BASE_URL="http://127.0.0.1:$port/bot" \
    -e TELEGRAM_BASE_FILE_URL="http://127.0.0.1:$port/file/bot" -e NO_PROXY=127.0.0.1 \
    "$IMAGE" >/dev/null
wait_healthy "$BOT"
answers "$BOT" "$UPLOAD_QUESTION" saffron.txt
step "ok: the added document survived recreating the container"

step "docker stop (SIGTERM)"
"$DOCKER" stop "$BOT" >/dev/null
code=$("$DOCKER" inspect --format '{{.State.ExitCode}}' "$BOT")
case "$code" in 0|143) ;; *) "$DOCKER" logs "$BOT" >&2; die "exit status $code after docker stop";; esac
"$DOCKER" logs "$BOT" 2>&1 | grep -q "stopped cleanly" \
    || { "$DOCKER" logs "$BOT" >&2; die "no clean shutdown in the logs"; }
! "$DOCKER" logs "$BOT" 2>&1 | grep -qF "${token#*:}" || die "the token appears in the logs"

step "starting it again"
"$DOCKER" start "$BOT" >/dev/null
wait_healthy "$BOT"
[ "$("$DOCKER" exec "$BOT" python -c 'import os, sqlite3; print(sqlite3.connect(os.environ["DATABASE_PATH"]).execute("PRAGMA integrity_check").fetchone()[0])')" = ok ] \
    || die "the store is corrupt after docker stop"
answers "$BOT" "$UPLOAD_QUESTION" saffron.txt
answers "$BOT" "$SEED_QUESTION" 001_29605565af34d15c.txt
[ "$("$DOCKER" logs "$BOT" 2>&1 | grep -c "bot @QaTestBot ready")" = 2 ] \
    || { "$DOCKER" logs "$BOT" >&2; die "the bot did not come back up"; }
step "ok: exit status $code, clean shutdown, intact store, answers again after a restart"
