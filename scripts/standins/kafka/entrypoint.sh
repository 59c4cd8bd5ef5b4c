#!/bin/sh
# Starts kfake from the official image's variables: it serves one
# listener, the one named by KAFKA_INTER_BROKER_LISTENER_NAME, on the
# address KAFKA_LISTENERS gives it, and tells clients the address
# KAFKA_ADVERTISED_LISTENERS gives it. kfake has one address a broker, so
# the other listeners (the host's, the controller's) are not served: a
# client on the host that bootstraps there would be sent to the internal
# name. Topics are not created on first use (KAFKA_AUTO_CREATE_TOPICS_ENABLE
# "true" is refused, as kfake cannot follow it).
set -eu
name=${KAFKA_INTER_BROKER_LISTENER_NAME:-PLAINTEXT}
pick() {
  printf '%s\n' "$1" | tr ',' '\n' | sed -n "s|^$name://||p" | head -n 1
}
listen=$(pick "${KAFKA_LISTENERS:-PLAINTEXT://0.0.0.0:9092}")
advertise=$(pick "${KAFKA_ADVERTISED_LISTENERS:-}")
if [ -z "$listen" ]; then
  echo "kafka stand-in: KAFKA_LISTENERS has no $name listener" >&2
  exit 1
fi
if [ "${KAFKA_AUTO_CREATE_TOPICS_ENABLE:-false}" = true ]; then
  echo "kafka stand-in: KAFKA_AUTO_CREATE_TOPICS_ENABLE=true is not supported (kfake creates no topic on use)" >&2
  exit 1
fi
host=${listen%:*}
port=${listen##*:}
echo "kafka stand-in: kfake on ${host:-0.0.0.0}:$port, advertised as ${advertise:-that} ($name); other listeners are not served"
exec /opt/kafka/bin/kfake -port "$port" -listen "${host:-0.0.0.0}" ${advertise:+-advertise "$advertise"}
