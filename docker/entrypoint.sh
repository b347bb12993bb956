#!/bin/sh
# Seed the collection on first start (uploaded documents live on the /data volume
# and survive recreating the container), bring the index up to date, then run the
# command as PID 1 so that `docker stop` (SIGTERM) reaches it.
set -eu
if [ ! -d "$CORPUS_DIR" ]; then
    mkdir -p "$CORPUS_DIR"
    cp -R /app/seeds/. "$CORPUS_DIR"/
    echo "seeded $CORPUS_DIR from the image's seeds/"
fi
cd /app
python -m bot index "$CORPUS_DIR" >&2
exec "$@"
