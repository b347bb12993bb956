#!/usr/bin/env bash
# Build the image for real and check it: answers from the seeds inside the
# container, runs as non-root, passes its HEALTHCHECK. Usage: make docker-test
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
VOLUME=$NAME-data

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
    "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true
    "$DOCKER" volume rm -f "$VOLUME" >/dev/null 2>&1 || true
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

step "waiting for the health check"
status=starting
for _ in $(seq 90); do
    status=$("$DOCKER" inspect --format '{{.State.Health.Status}}' "$NAME")
    [ "$status" = healthy ] && break
    [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$NAME")" = true ] \
        || { "$DOCKER" logs "$NAME" >&2; die "container stopped"; }
    sleep 1
done
[ "$status" = healthy ] || { "$DOCKER" logs "$NAME" >&2; die "health check: $status"; }

uid=$("$DOCKER" exec "$NAME" id -u)
[ "$uid" != 0 ] || die "the container runs as root"

answer=$("$DOCKER" exec "$NAME" python -m bot ask --json "متى تبدأ زيارة لافروف؟")
python3 - "$answer" <<'PY' || die "unexpected answer: $answer"
import json, sys
answer = json.loads(sys.argv[1])
first = answer["results"][0]
assert first["source"] == "001_29605565af34d15c.txt", first["source"]
assert "11 يوليو" in first["snippet"], first["snippet"]
PY

step "ok: healthy, uid $uid, answers from the seeds"
