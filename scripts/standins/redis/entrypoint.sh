#!/bin/sh
# What the official redis image's entrypoint does, for Debian's build:
# options alone mean redis-server; the server runs as user redis and owns
# /data. The official image builds Redis with protected mode off (a port
# is only reachable when it is published); Debian's build has it on, which
# refuses every client from another container: it is turned off here.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" = redis-server ]; then
  set -- "$@" --protected-mode no
  if [ "$(id -u)" = 0 ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi
exec "$@"
