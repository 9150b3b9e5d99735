#!/bin/sh
# gradeline-serve SERVICE [UVICORN OPTION...]
#
# Runs one Gradeline service in the foreground: its HTTP API and, as asyncio tasks of the same
# process, its outbox relay, its consumers and its projection runner (services/<name>/app.py).
# The port is the service's own (enrollment 8001, training 8002, assessment 8003,
# compensation 8004) plus GRADELINE_PORT_OFFSET, read from shared.settings so that it cannot
# drift. Further arguments go to uvicorn (a later --host or --port wins over the ones set here).
set -eu

if [ "$#" -lt 1 ]; then
    echo "usage: gradeline-serve enrollment|training|assessment|compensation [uvicorn option...]" >&2
    exit 2
fi
service=$1
shift

# Unknown service or invalid GRADELINE_* settings: say so and stop here (set -e).
port=$(python -c '
import sys
from shared.settings import SERVICE_PORTS, Settings
name = sys.argv[1]
if name not in SERVICE_PORTS:
    known = ", ".join(SERVICE_PORTS)
    sys.exit(f"gradeline-serve: unknown service {name!r}; one of: {known}")
try:
    settings = Settings()
except ValueError as exc:
    sys.exit(f"gradeline-serve: invalid settings: {exc}")
print(settings.port(name))
' "$service")

# exec: uvicorn becomes the container's PID 1 and gets SIGTERM itself (graceful shutdown: the
# lifespan cancels the background tasks, then closes the broker connection and the pool).
exec uvicorn "services.${service}.app:create_app" --factory \
    --host 0.0.0.0 --port "$port" --no-access-log "$@"
