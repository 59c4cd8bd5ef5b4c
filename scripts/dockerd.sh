#!/usr/bin/env bash
# Makes sure a Docker daemon answers, for make test-compose (docs/docker.md):
# when none does, installs Debian's docker.io if dockerd is missing (as
# root), starts dockerd in the background with its log in
# STOCKD_DOCKERD_LOG, and waits until it answers (60 s at most).
# STOCKD_DOCKERD_FLAGS adds flags, for a sandbox where the defaults fail
# (--iptables=false, --storage-driver=vfs); on the project's machines the
# defaults work (overlay2, a bridge with NAT).
set -euo pipefail

LOG=${STOCKD_DOCKERD_LOG:-/var/log/stockd-dockerd.log}

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "dockerd.sh: dockerd is missing; install Docker (Debian: apt-get install docker.io)" >&2; exit 1; }
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -yq docker.io
fi
command -v docker >/dev/null || { echo "dockerd.sh: no docker client (Debian's docker.io has one)" >&2; exit 1; }

# shellcheck disable=SC2086 # flags are words
setsid dockerd ${STOCKD_DOCKERD_FLAGS:-} >>"$LOG" 2>&1 < /dev/null &
pid=$!
deadline=$((SECONDS + 60))
until docker info >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    tail -20 "$LOG" >&2
    echo "dockerd.sh: dockerd exited (log: $LOG); STOCKD_DOCKERD_FLAGS may help (--iptables=false, --storage-driver=vfs)" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    tail -20 "$LOG" >&2
    echo "dockerd.sh: dockerd (pid $pid) did not answer within 60 s (log: $LOG)" >&2
    exit 1
  fi
  sleep 0.2
done
echo "dockerd.sh: dockerd $(docker info --format '{{.ServerVersion}}') is up (pid $pid, storage $(docker info --format '{{.Driver}}'), log $LOG)"
