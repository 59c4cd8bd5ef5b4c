#!/usr/bin/env bash
# make test-compose: the whole stack of compose.yaml in Docker, as `make up`
# brings it up, checked from the host through nginx (docs/docker.md):
#
#   1. the image: non-root, its HEALTHCHECK turns healthy, `docker stop`
#      ends it with exit 0 within the grace period, price_data.csv and the
#      migrations are inside; its size is reported;
#   2. `make up`, then every service healthy (or, for a one-shot, exited 0);
#   3. the README's curls through nginx: stocks, prices, a buy, the listing;
#   4. a tick produced into main_topic reaches /prices through the updaters;
#   5. one api and one updater stopped while buys go on: each exits 0, a
#      second tick still reaches /prices, and the money reconciles (for
#      each user, the credit spent = the sum of its accepted orders);
#   6. `make down` leaves no container or volume behind.
#
# It runs against whatever images Docker has under the names compose.yaml
# uses: the real ones where a registry is reachable, the stand-ins of
# scripts/standins/build.sh on a machine without (it says which). A unique
# project name and free host ports keep it off a stack of the user's and
# off the host's own Redis and PostgreSQL. Everything waits on a condition
# with a deadline; `make down` runs on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

say() { printf 'test-compose: [%3d s] %s\n' "$((SECONDS - started))" "$*"; }
fail() {
  printf 'test-compose: FAIL: %s\n' "$*" >&2
  exit 1
}

command -v docker >/dev/null ||
  fail "docker is not installed. Debian: apt-get install docker.io, then scripts/dockerd.sh; without a registry, scripts/standins/build.sh (docs/docker.md)"
docker info >/dev/null 2>&1 ||
  fail "no Docker daemon answers: scripts/dockerd.sh starts one (docs/docker.md)"
docker compose version >/dev/null 2>&1 ||
  fail "Docker Compose v2 (docker compose) is missing: scripts/standins/build.sh installs it, or see https://docs.docker.com/compose/install/"
command -v curl >/dev/null || fail "curl is missing (Debian: apt-get install curl)"

# What compose.yaml seeds (SEED_USERS), which the books are checked against.
declare -A seeded=([user1]=150000000 [user2]=6000000000)
grep -q 'SEED_USERS: user1:150000000,user2:6000000000$' compose.yaml ||
  fail "compose.yaml's SEED_USERS changed: update the seeded credit in $0"

export COMPOSE_PROJECT_NAME=stockd-test-$$
work=$(mktemp -d)
chmod 755 "$work" # the image's user reads the tick files
image_box=$COMPOSE_PROJECT_NAME-image

# free_port: a loopback port nothing listens on (from a range compose.yaml
# never uses by default).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}
STOCKD_HTTP_PORT=$(free_port)
STOCKD_REDIS_PORT=$(free_port)
STOCKD_KAFKA_PORT=$(free_port)
updater_port=$(free_port)
STOCKD_UPDATER_PORTS=$updater_port-$((updater_port + 1))
# A subnet of its own, so that the test never overlaps a stack of the
# user's (compose.yaml's default is 172.29.0.0/16).
STOCKD_SUBNET=${STOCKD_TEST_SUBNET:-172.28.$(($$ % 250)).0/24}
export STOCKD_HTTP_PORT STOCKD_REDIS_PORT STOCKD_KAFKA_PORT STOCKD_UPDATER_PORTS STOCKD_SUBNET
api=http://127.0.0.1:$STOCKD_HTTP_PORT

cleanup() {
  local rc=$?
  [ -z "${buyer:-}" ] || kill "$buyer" 2>/dev/null || true
  if [ "$rc" != 0 ]; then
    echo "--- docker compose ps -a" >&2
    docker compose ps -a >&2 || true
    echo "--- docker compose logs (last lines of each)" >&2
    docker compose logs --no-color --tail=25 >&2 || true
  fi
  docker rm -f "$image_box" >/dev/null 2>&1 || true
  say "make down"
  make -s down >/dev/null 2>&1 || echo "test-compose: make down failed" >&2
  rm -rf "$work"
  if [ "$rc" = 0 ]; then
    say "passed"
  else
    say "failed"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# until_ok DESC SECONDS CMD...: runs CMD until it succeeds, SECONDS at most.
until_ok() {
  local desc=$1 within=$2
  shift 2
  local deadline=$((SECONDS + within))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$desc: not within $within s$([ -s "$work/why" ] && printf ': %s' "$(cat "$work/why")")"
    sleep 0.5
  done
}

say "project $COMPOSE_PROJECT_NAME: nginx on 127.0.0.1:$STOCKD_HTTP_PORT, redis :$STOCKD_REDIS_PORT, kafka :$STOCKD_KAFKA_PORT, updaters :$STOCKD_UPDATER_PORTS, subnet $STOCKD_SUBNET"
for image in $(docker compose config --images | sort -u); do
  case "$image" in stockd:*) continue ;; esac
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    say "image $image: not here, compose pulls it"
  elif [ "$(docker image inspect --format '{{index .Config.Labels "org.stockd.standin"}}' "$image")" = 1 ]; then
    say "image $image: a stand-in (scripts/standins, docs/docker.md)"
  else
    say "image $image: real"
  fi
done

# --- 2. up: builds the image (the Dockerfile's `make build`) and starts all --
say "make up"
make -s up > "$work/up.log" 2>&1 || { tail -40 "$work/up.log" >&2; fail "make up failed"; }
say "make up returned"

# stack_state prints "ready", "waiting" or "failed: WHY".
stack_state() {
  docker compose ps -a --format '{{.Service}}|{{.State}}|{{.Health}}|{{.ExitCode}}' | awk -F'|' '
    { n[$1]++ }
    $1 ~ /^(kafka-init|migrate|seed-users|produce)$/ {
      if ($2 == "exited" && $4 != 0) { print "failed: " $1 " exited " $4; bad = 1; exit }
      if ($2 != "exited") wait = 1
      next
    }
    $2 == "exited" || $2 == "dead" { print "failed: " $1 " is " $2 " (exit " $4 ")"; bad = 1; exit }
    $1 == "nginx" { if ($2 != "running") wait = 1; next }
    { if ($2 != "running" || $3 != "healthy") wait = 1 }
    END {
      if (bad) exit
      split("redis postgres kafka kafka-init migrate seed-users produce nginx", one, " ")
      for (i in one) if (n[one[i]] != 1) wait = 1
      if (n["api"] != 2 || n["updater"] != 2) wait = 1
      print (wait ? "waiting" : "ready")
    }'
}
stack_ready() {
  local s
  s=$(stack_state)
  case "$s" in
    ready) return 0 ;;
    failed*) fail "$s" ;;
  esac
  return 1
}
until_ok "every service healthy, every one-shot done" 180 stack_ready
say "every service is healthy; kafka-init, migrate, seed-users and produce exited 0"

# --- 1. the image ------------------------------------------------------------
user=$(docker image inspect --format '{{.Config.User}}' stockd:latest)
case "${user%%:*}" in "" | root | 0) fail "the image runs as ${user:-root}" ;; esac
size=$(docker image inspect --format '{{.Size}}' stockd:latest)
docker run -d --name "$image_box" stockd:latest > /dev/null
pid=$(docker inspect --format '{{.State.Pid}}' "$image_box")
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$uid" != 0 ] || fail "the image's process runs as root"
healthy() { [ "$(docker inspect --format '{{.State.Health.Status}}' "$image_box")" = healthy ]; }
until_ok "the image's HEALTHCHECK turns healthy" 60 healthy
docker cp "$image_box:/app/price_data.csv" - | tar -xO | cmp -s - price_data.csv ||
  fail "/app/price_data.csv in the image is not the tree's price_data.csv"
inside=$(docker cp "$image_box:/app/migrations" - | tar -t | sed -n 's|^migrations/\(.*\.sql\)$|\1|p' | sort | tr '\n' ' ')
want=$(cd migrations && printf '%s\n' *.sql | sort | tr '\n' ' ')
[ "$inside" = "$want" ] || fail "/app/migrations holds '$inside', the tree '$want'"
grace=10 # docker stop's default
t=$(date +%s%N)
docker stop -t "$grace" "$image_box" > /dev/null
stopped_ms=$((($(date +%s%N) - t) / 1000000))
code=$(docker inspect --format '{{.State.ExitCode}}' "$image_box")
[ "$code" = 0 ] || fail "docker stop: the image exited $code"
[ "$stopped_ms" -lt $((grace * 1000)) ] || fail "docker stop took ${stopped_ms} ms, past the ${grace} s grace period (killed)"
say "image stockd:latest: $((size / 1000000)) MB, runs as $user (uid $uid), healthy, stopped with exit 0 in ${stopped_ms} ms, price_data.csv and migrations/ ($want) inside"

# --- 3. the README's curls through nginx -------------------------------------
# has BODY PATTERN: BODY matches the grep PATTERN. The body is read whole
# first: a grep -q that ends early would fail curl's write, and the
# pipeline with it.
has() { grep -q -- "$2" <<< "$1"; }
get() { curl -fsS "$api$1"; }
prices_of() { get "/api/stocks/$1/prices"; }
has_prices() { has "$(prices_of stock1 2>/dev/null)" '"price":\[[0-9]'; }
until_ok "stock1's prices (produced into Kafka, applied by the updaters)" 60 has_prices
has "$(get /api/stocks)" '"stock1"' || fail "GET /api/stocks does not list stock1"
buy() { # buy USER STOCK QUANTITY: prints the HTTP status, then the body
  curl -sS -o - -w '\n%{http_code}' -X POST "$api/api/buy-stock" -H 'Content-Type: application/json' \
    -d "{\"user\":\"$1\",\"stockname\":\"$2\",\"quantity\":$3}"
}
answer=$(buy user2 stock1 100)
[ "${answer##*$'\n'}" = 201 ] || fail "the README's buy: $answer"
body=${answer%$'\n'*}
[[ "$body" =~ \"id\":([0-9]+) ]] || fail "the buy's answer has no order id: $body"
id=${BASH_REMATCH[1]}
has "$(get /api/orders)" "\"id\":${id}[,}]" || fail "GET /api/orders does not list order $id"
say "README through nginx: /api/stocks, /prices, a buy (order $id, $(printf '%s' "$body" | grep -o '"result":"[A-Za-z]*"')), /api/orders lists it"

# --- 4. a tick through Kafka -------------------------------------------------
# produce_tick STOCK PRICE: one row through `stockd produce` on the compose
# network, as the produce service sends price_data.csv.
produce_tick() {
  printf 'Time,Stock,Price\n235959,%s,%s\n' "$1" "$2" > "$work/tick-$2.csv"
  chmod 644 "$work/tick-$2.csv"
  docker compose run --rm --no-deps -T -v "$work:/ticks:ro" -e "PRICE_CSV=/ticks/tick-$2.csv" produce \
    > "$work/produce-$2.log" 2>&1 || { cat "$work/produce-$2.log" >&2; fail "stockd produce of a tick failed"; }
}
shows_price() { has "$(prices_of "$1" 2>/dev/null)" "[[,]$2[],]"; }
produce_tick stock3 987654
until_ok "the tick stock3=987654 on /prices" 60 shows_price stock3 987654
say "a tick produced into main_topic is on /api/stocks/stock3/prices"

# --- 5. one api and one updater down while buys go on ------------------------
box_of() { docker compose ps --format '{{.Name}}' "$1" | sort | head -1; }
api_box=$(box_of api)
updater_box=$(box_of updater)
: > "$work/buys"
(
  n=0
  while [ ! -e "$work/enough" ] || [ "$n" -lt 40 ]; do
    [ ! -e "$work/enough" ] || n=$((n + 1))
    a=$(buy user1 stock1 1 2>/dev/null || true)
    printf '%s %s\n' "${a##*$'\n'}" "$(printf '%s' "${a%$'\n'*}" | grep -o '"result":"[A-Za-z]*"' || true)" >> "$work/buys"
  done
) &
buyer=$!
got_buys() { [ "$(wc -l < "$work/buys")" -ge "$1" ]; }
until_ok "the first buys" 30 got_buys 20
say "buys going on; stopping $api_box and $updater_box"
docker stop "$api_box" "$updater_box" > /dev/null
for box in "$api_box" "$updater_box"; do
  code=$(docker inspect --format '{{.State.ExitCode}}' "$box")
  [ "$code" = 0 ] || fail "$box exited $code on docker stop"
done
say "both exited 0; a second tick, for the updater left"
produce_tick stock2 876543
until_ok "the tick stock2=876543 on /prices (one updater left)" 90 shows_price stock2 876543
touch "$work/enough"
wait "$buyer"
buyer=
total=$(wc -l < "$work/buys")
accepted=$(grep -c '^201 "result":"Accept"' "$work/buys" || true)
others=$(grep -v '^201 ' "$work/buys" | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }' || true)
grep -qv '^\(201\|502\) ' "$work/buys" && fail "buys answered other than 201 or 502 (nginx finding a stopping replica): $others"
[ "$accepted" -gt 40 ] || fail "only $accepted of $total buys accepted"
say "$total buys during the stop: $accepted accepted${others:+, others: $others}"

psql_value() { docker compose exec -T postgres psql -U postgres -d stocks -tAc "$1" | tr -d '[:space:]'; }
credit_of() { get "/api/users/$1" | grep -o '"credit":[0-9]*' | cut -d: -f2; }
books_agree() {
  local u spent sum
  for u in user1 user2; do
    spent=$((seeded[$u] - $(credit_of "$u")))
    sum=$(psql_value "SELECT coalesce(sum(price * quantity), 0) FROM orders WHERE \"user\" = '$u' AND status = 'accepted'")
    [ "$spent" = "$sum" ] || { echo "$u: credit spent $spent, accepted orders $sum" > "$work/why"; return 1; }
  done
  rm -f "$work/why"
}
until_ok "the books to agree" 90 books_agree
in_ledger=$(psql_value "SELECT count(*) FROM orders WHERE \"user\" = 'user1' AND status = 'accepted'")
[ "$in_ledger" -ge "$accepted" ] || fail "$accepted buys answered Accept, the ledger holds $in_ledger"
say "books agree: for user1 and user2, credit spent = sum of accepted orders ($in_ledger accepted orders of user1)"

# --- 6. down -----------------------------------------------------------------
trap - EXIT
docker rm -f "$image_box" > /dev/null
make -s down > "$work/down.log" 2>&1 || { cat "$work/down.log" >&2; fail "make down failed"; }
left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"; docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] || fail "make down left: $left"
rm -rf "$work"
say "make down left nothing; passed in $((SECONDS - started)) s"
