#!/bin/sh
# dtsbot's entrypoint: the container image's ENTRYPOINT, and run as it is outside Docker (the systemd unit,
# tests/deploy/test_entrypoint_replicas.py in CI). Waits until the configured database answers, then becomes
# `dtsbot serve`.
#
#   DTSBOT_CONFIG                 app.yaml to serve (default /etc/dtsbot/app.yaml)
#   DTSBOT_DATABASE_WAIT_SECONDS  how long to wait for the database (default 60; 0: do not wait)
#   DTSBOT_MIGRATE                "true" (default): `dtsbot serve` applies the schema migrations at start, under
#                                 an advisory lock, so replicas may start together. "false": serve --no-migrate,
#                                 for a rolling upgrade whose migrations an operator ran first (the flag comes
#                                 with `dtsbot db upgrade`; a dtsbot without it refuses the flag and exits).
# Secrets are not handled here: app.yaml's ${NAME} reads the environment or the file named by NAME_FILE.
# Extra arguments go to `dtsbot serve`.
set -eu

config="${DTSBOT_CONFIG:-/etc/dtsbot/app.yaml}"
dtsbot="$(command -v dtsbot)" || { echo "dtsbot-entrypoint: no dtsbot on PATH" >&2; exit 127; }
python="$(dirname "$dtsbot")/python"  # the interpreter dtsbot is installed in (a virtualenv's bin/)
[ -x "$python" ] || python=python3

wait_seconds="${DTSBOT_DATABASE_WAIT_SECONDS:-60}"
if [ "$wait_seconds" != "0" ]; then
    "$python" -m bot.database_wait --config "$config" --timeout "$wait_seconds"
fi

case "${DTSBOT_MIGRATE:-true}" in
    true) set -- --config "$config" "$@" ;;
    false) set -- --config "$config" --no-migrate "$@" ;;
    *) echo "dtsbot-entrypoint: DTSBOT_MIGRATE must be true or false, not '${DTSBOT_MIGRATE}'" >&2; exit 2 ;;
esac
exec "$dtsbot" serve "$@"
