#!/usr/bin/env bash
# Load test of stockd (issue 8.6; figures in docs/performance.md).
#
#   make loadtest                 # the full run, about 5 minutes
#   LOADTEST_QUICK=1 make loadtest  # a short smoke run of every stage
#
# It starts its own throwaway servers on free loopback ports (a Redis, a
# three-master Redis Cluster, a Redis for ingest, a kfake broker) and
# scratch PostgreSQL databases on LOADTEST_PG_SERVER, builds stockd, runs
# every stage below, prints a Markdown table of the figures, and reconciles
# money: for every seeded user, credit spent == the sum of price * quantity
# of its accepted orders. It exits non-zero if a stage failed or the money
# does not reconcile. Everything it started is stopped on exit, and every
# scratch database dropped, whatever ends the run (an error, Ctrl-C,
# SIGTERM); LOADTEST_KEEP=1 keeps the work directory.
#
# LOADTEST_ONLY=ceiling,cpu,buy,cluster,orders,csv,kafka,yardsticks,market,positions runs only those
# stages (the money is reconciled after buy and cluster).
# LOADTEST_MARKET_PARTS=csv,ready,http,days,kafka,stream runs only those
# parts of the market stage; LOADTEST_MARKET_CLIENTS=100,500,1000 the
# numbers of stream clients it tries.
# LOADTEST_STOCKD=path runs a stockd binary built elsewhere (a "before"
# figure in the same conditions), instead of building this tree's.
#
# Needs: go, redis-server, redis-cli, redis-benchmark, psql, pgbench, curl,
# wrk and /usr/bin/time (the last two are installed from Debian if missing).
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
QUICK=${LOADTEST_QUICK:-0}
PG_SERVER=${LOADTEST_PG_SERVER:-postgres://postgres@127.0.0.1:5432}
if [[ $QUICK == 1 ]]; then
	DUR=3; ROWS=(10000 100000); TICKS=(100000 1000000); KAFKA_TICKS=100000
	MARKET_MINUTES=60 MARKET_DAYS_STOCKS=200 MARKET_KAFKA_TICKS=200000 MARKET_ROUNDS=1
	MARKET_CLIENTS=100 MARKET_STREAM_SECONDS=10
else
	DUR=10; ROWS=(100000 1000000); TICKS=(1000000 10000000); KAFKA_TICKS=1000000
	MARKET_MINUTES=390 MARKET_DAYS_STOCKS=1000 MARKET_KAFKA_TICKS=1000000 MARKET_ROUNDS=2
	MARKET_CLIENTS=${LOADTEST_MARKET_CLIENTS:-100,500,1000} MARKET_STREAM_SECONDS=20
fi
MARKET_STOCKS=10000 # the market: stock1..stock10000
MARKET_RATE=50000   # ticks a second of the stream stage
CONNS_BUY=32
CONNS_LIST=8
CREDIT=1000000000000000 # per seeded user: every order is accepted
STOCKS=stock1,stock2,stock3

WORK=$(mktemp -d /tmp/stockd-loadtest.XXXXXX)
RESULTS=$WORK/results.md
FAILED=$WORK/failed
PIDS=$WORK/pids
TAG=$(date +%s)_$$
# The scratch databases, one name a line: scratch_db runs in $(...) and in
# stage subshells, whose variables the cleanup would never see.
DBS=$WORK/dbs
: >"$RESULTS" >"$FAILED" >"$PIDS" >"$DBS"

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM # once, even if a signal comes during the cleanup
	if [[ -s $PIDS ]]; then
		tac "$PIDS" | while read -r pid; do kill "$pid" 2>/dev/null; done
		sleep 0.5
		tac "$PIDS" | while read -r pid; do kill -9 "$pid" 2>/dev/null; done
	fi
	# The recorded names, and any other of this run's tag (a database
	# created by a command killed before its name was written).
	local db
	{
		cat "$DBS"
		psql -At "$PG_SERVER/postgres" -c "SELECT datname FROM pg_database WHERE datname LIKE 'stockd\_load\_${TAG}\_%'"
	} 2>/dev/null | sort -u | while read -r db; do
		[[ -n $db ]] || continue
		psql -q "$PG_SERVER/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
			echo "loadtest: could not drop database $db" >&2
	done
	if [[ ${LOADTEST_KEEP:-0} == 1 ]]; then
		log "kept $WORK"
	else
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# started PID remembers a process for the cleanup.
started() { echo "$1" >>"$PIDS"; }

# stop PID stops one process we started, and waits for it when it is ours.
stop() {
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a port that is free, and whose cluster bus port (+10000)
# is free too, both below the kernel's ephemeral range (32768 and up on
# Linux), where connections and other tests' listeners take theirs.
free_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % 12000))
		if ! listening "$p" && ! listening $((p + 10000)) && ! grep -qx "$p" "$WORK/ports" 2>/dev/null; then
			echo "$p" >>"$WORK/ports"
			echo "$p"
			return
		fi
	done
}

wait_port() {
	for _ in $(seq 200); do listening "$1" && return 0; sleep 0.05; done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
}

wait_ready() {
	for _ in $(seq 300); do
		curl -sf -o /dev/null "http://$1/readyz" && return 0
		sleep 0.1
	done
	echo "http://$1/readyz never answered 200" >&2
	return 1
}

need() {
	command -v "$1" >/dev/null && return 0
	if [[ -n ${2:-} ]] && command -v apt-get >/dev/null; then
		log "installing $2 from Debian"
		apt-get -o DPkg::Lock::Timeout=300 install -y "$2" >/dev/null 2>&1 || { apt-get -o DPkg::Lock::Timeout=300 update >/dev/null 2>&1 && apt-get -o DPkg::Lock::Timeout=300 install -y "$2" >/dev/null 2>&1; }
	fi
	command -v "$1" >/dev/null || { echo "loadtest: $1 is missing" >&2; exit 1; }
}

row() { printf '| %s | %s | %s | %s | %s |\n' "$@" >>"$RESULTS"; }

# stage KEY NAME FUNCTION ARGS...: runs a stage in a subshell with errexit,
# so that one failed stage is reported and the others still run. With
# LOADTEST_ONLY (a comma list of keys), only those stages run.
stage() {
	local key=$1 name=$2
	shift 2
	if [[ -n ${LOADTEST_ONLY:-} && ,$LOADTEST_ONLY, != *,$key,* ]]; then
		return 0
	fi
	log "$name"
	set +e
	(set -e; "$@")
	local rc=$?
	set -e
	if [[ $rc != 0 ]]; then
		echo "$name" >>"$FAILED"
		row "$name" FAILED - - "exit $rc, see the log above"
	fi
}

# --- servers --------------------------------------------------------------

# start_redis DIR [ARGS...]: a redis-server on a free port, written to
# DIR/port. Another process may take the port between the check and the
# bind (the tests of other work pick free ports too): then try another.
start_redis() {
	local dir=$1 port pid
	shift
	mkdir -p "$dir"
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
			--daemonize no --loglevel warning "$@" >"$dir/log" 2>&1 &
		pid=$!
		started $pid
		if wait_port "$port" 2>/dev/null && kill -0 "$pid" 2>/dev/null &&
			[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]]; then
			echo "$port" >"$dir/port"
			echo "$pid" >"$dir/pid"
			return 0
		fi
		stop "$pid"
	done
	echo "redis-server did not start, see $dir/log" >&2
	return 1
}

start_cluster() { # prints the comma-separated seed addresses
	local ports=() addrs=()
	for i in 1 2 3; do
		local p
		start_redis "$WORK/cluster$i" --cluster-enabled yes --cluster-config-file nodes.conf \
			--cluster-node-timeout 5000
		p=$(cat "$WORK/cluster$i/port")
		ports+=("$p")
		addrs+=("127.0.0.1:$p")
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$WORK/cluster-create.log" 2>&1
	for _ in $(seq 200); do
		redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
		sleep 0.05
	done
	local IFS=,
	echo "${addrs[*]}"
}

scratch_db() { # NAME: a database name that the cleanup drops
	local db="stockd_load_${TAG}_$1"
	echo "$db" >>"$DBS" # a file: this runs in a subshell
	echo "$db"
}

# --- stockd -----------------------------------------------------------------

users_of() { # N: u1,...,uN
	local out=() i
	for ((i = 1; i <= $1; i++)); do out+=("u$i"); done
	local IFS=,
	echo "${out[*]}"
}

seed_of() { # USERS(comma list): name:credit pairs
	local out=() u
	for u in ${1//,/ }; do out+=("$u:$CREDIT"); done
	local IFS=,
	echo "${out[*]}"
}

ALL_USERS="user1,user2,$(users_of 64)"

# stockd_env REDIS DB: the environment of every stockd command of a setup.
stockd_env() {
	echo "PRICE_STORE=redis ORDER_STORE=postgres REDIS_ADDR=$1 DATABASE_URL=$PG_SERVER/$2?sslmode=disable" \
		"STOCKS=$STOCKS SEED_USERS=$(seed_of "$ALL_USERS") AUTH=off RATE_LIMIT=0 PRICE_SOURCE=csv PRICE_CSV=price_data.csv"
}

# stockd_cmd ENV COMMAND: one one-shot command, its log in stockd.log; on
# failure its last lines are shown.
stockd_cmd() {
	local env=$1
	shift
	echo "-- stockd $*" >>"$WORK/stockd.log"
	# shellcheck disable=SC2086
	env $env "$BIN" "$@" >>"$WORK/stockd.log" 2>&1 || {
		local rc=$?
		echo "stockd $* failed (exit $rc):" >&2
		tail -3 "$WORK/stockd.log" | cut -c1-300 >&2
		return $rc
	}
}

# prepare REDIS DB: migrate, seed the users, load the prices.
prepare() {
	local env
	env=$(stockd_env "$1" "$2")
	stockd_cmd "$env" migrate
	stockd_cmd "$env" seed-users
	stockd_cmd "$env" update
}

# memory_env: the same stockd on its memory stores (prices from the same
# file at start, the same users seeded): the ceiling of the HTTP layer, the
# JSON and the domain on this machine.
memory_env() {
	echo "PRICE_STORE=memory ORDER_STORE=memory" \
		"STOCKS=$STOCKS SEED_USERS=$(seed_of "$ALL_USERS") AUTH=off RATE_LIMIT=0 PRICE_SOURCE=csv PRICE_CSV=price_data.csv"
}

# serve NAME REDIS DB: starts stockd serve, prints its address. With
# DEBUG_ADDR supported, pprof listens on a port of its own (in $WORK/NAME.debug).
# A port taken meanwhile by someone else makes it try another.
serve() {
	serve_env "$1" "$(stockd_env "$2" "$3")"
}

# serve_env NAME ENV [COMMAND]: serve, with the whole environment given;
# COMMAND "" is stockd's default (ingest the file, then serve: the memory
# stores hold what one process loads).
serve_env() {
	local name=$1 env=$2 cmd=${3-serve} addr extra="" pid
	for _ in 1 2 3 4 5; do
		addr=127.0.0.1:$(free_port)
		if grep -qa DEBUG_ADDR "$BIN"; then
			local dbg
			dbg=127.0.0.1:$(free_port)
			extra="DEBUG_ADDR=$dbg"
			echo "$dbg" >"$WORK/$name.debug"
		fi
		# shellcheck disable=SC2086
		env $env HTTP_ADDR="$addr" $extra "$BIN" $cmd >"$WORK/serve-$name.log" 2>&1 &
		pid=$!
		started $pid
		echo $pid >"$WORK/$name.pid"
		if wait_ready "$addr" 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
			echo "$addr"
			return 0
		fi
		stop "$pid"
		grep -q 'address already in use' "$WORK/serve-$name.log" || break
	done
	echo "stockd serve did not become ready:" >&2
	tail -5 "$WORK/serve-$name.log" | cut -c1-300 >&2
	return 1
}

# bench NAME CONNS URL ARGS...: one wrk run, one row of the table.
bench() {
	local name=$1 conns=$2 url=$3 out
	shift 3
	out=$(wrk -t2 -c"$conns" -d"${DUR}s" --timeout 5s -s scripts/wrk/stockd.lua "$url" -- "$@" 2>&1) ||
		{ echo "$out" >&2; return 1; }
	local r
	r=$(grep '^RESULT' <<<"$out") || { echo "$out" >&2; return 1; }
	read -r _ rps p50 p99 n errs non2xx <<<"$r"
	echo "$rps $p99 $n" >"$WORK/last-bench" # for the stages that compare runs
	local note="$n requests"
	((errs > 0)) && note+=", $errs socket errors"
	((non2xx > 0)) && note+=", $non2xx non-2xx"
	row "$name" "$rps" "$p50" "$p99" "$note"
	((non2xx == 0 && errs == 0)) || { echo "$name: $non2xx answers were not 2xx, $errs socket errors" >&2; return 1; }
}

# reconcile_once REDIS-CLI-ARGS DB: credit spent == accepted orders, for
# every seeded user; prints the differences.
reconcile_once() {
	local cli=$1 db=$2 bad=0 u
	declare -A spent=()
	while IFS='|' read -r u sum; do
		[[ -n $u ]] && spent[$u]=$sum
	done < <(psql -At "$PG_SERVER/$db" -c "SELECT \"user\", sum(price * quantity) FROM orders WHERE status = 'accepted' GROUP BY 1")
	for u in ${ALL_USERS//,/ }; do
		local json credit
		# shellcheck disable=SC2086
		json=$(redis-cli $cli GET "$u")
		credit=$(grep -o '"credit": *[0-9]*' <<<"$json" | grep -o '[0-9]*$') || { echo "$u has no credit: $json"; bad=1; continue; }
		local want=$((CREDIT - credit)) got=${spent[$u]:-0}
		if [[ $want != "$got" ]]; then
			echo "$u spent $want of credit, its accepted orders are worth $got"
			bad=1
		fi
	done
	return $bad
}

# reconcile NAME REDIS DB REDIS-CLI-ARGS: runs stockd serve on the setup
# until its settler has recorded the orders left pending (requests that wrk
# cut at the end of a run were debited; the settler records them after its
# grace period of 30 s), then checks the money.
reconcile() {
	local name=$1 redis=$2 db=$3 cli=$4 t0=$SECONDS
	serve "settle-$name" "$redis" "$db" >/dev/null
	local deadline=$((SECONDS + 90))
	until reconcile_once "$cli" "$db" >"$WORK/reconcile-$name.txt"; do
		if ((SECONDS > deadline)); then
			stop "$(cat "$WORK/settle-$name.pid")"
			head -5 "$WORK/reconcile-$name.txt" | sed "s/^/$name: /" >&2
			row "reconcile, $name" MISMATCH - - "$(wc -l <"$WORK/reconcile-$name.txt") users differ after 90 s of settling"
			return 1
		fi
		sleep 2
	done
	stop "$(cat "$WORK/settle-$name.pid")"
	local orders
	orders=$(psql -At "$PG_SERVER/$db" -c "SELECT count(*) FROM orders WHERE \"user\" NOT LIKE 'bulk%'")
	row "reconcile, $name" ok - - "$(echo "$ALL_USERS" | tr , '\n' | wc -l) users, $orders orders: credit spent == accepted orders (after $((SECONDS - t0)) s)"
}

# --- stages -------------------------------------------------------------------

stage_buy_single() {
	local addr
	addr=$(serve single "$REDIS" "$DB")
	local dbg="" curlpid=""
	if [[ -f $WORK/single.debug ]]; then
		dbg=$(cat "$WORK/single.debug")
		curl -sf -o "$WORK/cpu.pprof" "http://$dbg/debug/pprof/profile?seconds=$DUR" &
		curlpid=$!
		started $curlpid
	fi
	bench "BuyStock, user1/user2 x 3 stocks, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy user1,user2 "$STOCKS"
	if [[ -n $curlpid ]]; then
		wait "$curlpid" || true
		go tool pprof -top -nodecount=20 "$BIN" "$WORK/cpu.pprof" >"$WORK/pprof.txt" 2>&1 || true
		go tool pprof -top -cum -nodecount=40 "$BIN" "$WORK/cpu.pprof" >"$WORK/pprof-cum.txt" 2>&1 || true
	fi
	bench "BuyStock, 64 users x 3 stocks, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy "$(users_of 64)" "$STOCKS"
	stop "$(cat "$WORK/single.pid")"
	# Rows written by one transaction share its xmin: orders per commit.
	local commits
	commits=$(psql -At "$PG_SERVER/$DB" -c "SELECT count(*) || ' orders in ' || count(DISTINCT xmin::text) || ' transactions' FROM orders")
	row "orders per PostgreSQL transaction (both runs)" - - - "$commits"
}

stage_buy_cluster() {
	prepare "$CLUSTER" "$DB_CLUSTER"
	local addr
	addr=$(serve cluster "$CLUSTER" "$DB_CLUSTER")
	bench "BuyStock on the 3-master cluster, user1/user2, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy user1,user2 "$STOCKS"
	bench "BuyStock on the 3-master cluster, 64 users, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy "$(users_of 64)" "$STOCKS"
	stop "$(cat "$WORK/cluster.pid")"
}

stage_orders_page() {
	local addr rows
	addr=$(serve orders "$REDIS" "$DB")
	for rows in "${ROWS[@]}"; do
		# Filler orders of users nobody seeded (bulk*), over the last 30 days,
		# a quarter denied: the listing reads past the hidden ones.
		psql -q "$PG_SERVER/$DB" -v ON_ERROR_STOP=1 -c "
			INSERT INTO orders (order_key, \"user\", stock, status, price, quantity, creation_date)
			SELECT 'bulk-' || g, 'bulk' || g % 100, 'stock' || (1 + g % 3),
			       CASE WHEN g % 4 = 0 THEN 'denied' ELSE 'accepted' END, 1000 + g % 500, 1 + g % 20,
			       now() - (g * 2592000.0 / $rows) * interval '1 second'
			FROM generate_series((SELECT count(*) FROM orders) + 1, $rows) g
			ON CONFLICT (order_key) DO NOTHING" -c "ANALYZE orders"
		local n
		n=$(psql -At "$PG_SERVER/$DB" -c "SELECT count(*) FROM orders")
		bench "GET /api/orders?limit=100, $n rows, -c$CONNS_LIST" "$CONNS_LIST" "http://$addr" get "/api/orders?limit=100"
	done
	stop "$(cat "$WORK/orders.pid")"
}

# cpu_ticks PID...: the CPU time (user + system, all threads, in clock
# ticks) the processes have used so far; a process gone counts 0.
cpu_ticks() {
	local p t=0 f
	for p in "$@"; do
		# The command name may hold spaces: read the fields after its ")".
		f=$(awk '{ c = index($0, ") "); split(substr($0, c + 2), f, " "); print f[12] + f[13] }' "/proc/$p/stat" 2>/dev/null) || f=0
		t=$((t + ${f:-0}))
	done
	echo "$t"
}

# pg_backends DB: the PostgreSQL server processes serving DB now (stockd's
# pool), but not the psql asking, nor an autovacuum worker that the
# preceding buys woke (it would be counted against the orders page).
pg_backends() {
	psql -At "$PG_SERVER/$1" -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()" | paste -sd' '
}

# side_by_side WHAT: BuyStock (user1/user2 x 3 stocks, -c$CONNS_BUY) and
# then the orders page (limit=100, -c$CONNS_LIST) on the same binary, first
# on its memory stores (the ceiling), then on Redis + PostgreSQL, each setup
# on throwaway servers of its own. WHAT=share prints each run and its share
# of the ceiling; WHAT=cpu prints the CPU each server process spent per
# request over the run (utime + stime from /proc, divided by wrk's count
# of requests): stockd, its Redis, and the PostgreSQL backends serving its
# database (the server's shared writers, WAL and checkpointer, are left
# out: other databases use them too).
side_by_side() {
	local what=$1 redis_dir=$WORK/side-$1 db
	start_redis "$redis_dir"
	local redis=127.0.0.1:$(cat "$redis_dir/port") redis_pid
	redis_pid=$(cat "$redis_dir/pid")
	db=$(scratch_db "side_$1")
	prepare "$redis" "$db"
	local -A rps=()
	local setup
	for setup in memory stores; do
		local env label addr pid pg="" cmd=serve
		if [[ $setup == memory ]]; then
			env=$(memory_env) label="memory stores" cmd=""
		else
			env=$(stockd_env "$redis" "$db") label="Redis + PostgreSQL"
		fi
		addr=$(serve_env "side-$what-$setup" "$env" "$cmd")
		pid=$(cat "$WORK/side-$what-$setup.pid")
		local path
		for path in buy orders; do
			local name conns args=()
			if [[ $path == buy ]]; then
				name="BuyStock, user1/user2 x 3 stocks, -c$CONNS_BUY" conns=$CONNS_BUY args=(buy user1,user2 "$STOCKS")
			else
				name="GET /api/orders?limit=100, -c$CONNS_LIST" conns=$CONNS_LIST args=(get "/api/orders?limit=100")
			fi
			# A second of warm-up: the pools are full and the backends
			# started before the count begins.
			wrk -t2 -c"$conns" -d1s -s scripts/wrk/stockd.lua "http://$addr" -- "${args[@]}" >/dev/null 2>&1 || true
			[[ $setup == stores ]] && pg=$(pg_backends "$db")
			local s0 r0 p0 s1 r1 p1 b
			local -A pg_start=()
			for b in $pg; do pg_start[$b]=$(cpu_ticks "$b"); done
			s0=$(cpu_ticks "$pid") r0=$(cpu_ticks "$redis_pid")
			bench "$what: $name, $label" "$conns" "http://$addr" "${args[@]}"
			# PostgreSQL: per backend alive at the end, its ticks since the
			# start, or all of them if the pool opened it during the run; a
			# backend closed during the run is left out (its ticks are
			# gone with it).
			s1=$(cpu_ticks "$pid") r1=$(cpu_ticks "$redis_pid")
			p0=0 p1=0
			if [[ $setup == stores ]]; then
				pg=$(pg_backends "$db")
				for b in $pg; do
					p1=$((p1 + $(cpu_ticks "$b") - ${pg_start[$b]:-0}))
				done
			fi
			local n
			read -r rps[$setup-$path] _ n <"$WORK/last-bench"
			if [[ $what == cpu ]]; then
				local hz
				hz=$(getconf CLK_TCK)
				us() { awk -v d="$1" -v n="$n" -v hz="$hz" 'BEGIN { printf "%.0f", d / hz * 1e6 / n }'; }
				local note="stockd $(us $((s1 - s0))) us"
				[[ $setup == stores ]] && note+=", Redis $(us $((r1 - r0))) us, PostgreSQL $(us $((p1 - p0))) us ($(wc -w <<<"$pg") backends)"
				row "$what: CPU per request, ${name%%,*}, $label" - - - "$note (over $n requests)"
			fi
		done
		stop "$pid"
	done
	if [[ $what == share ]]; then
		for path in buy orders; do
			row "share of the ceiling: $([[ $path == buy ]] && echo BuyStock || echo orders page)" \
				"$(awk -v a="${rps[stores-$path]}" -v b="${rps[memory-$path]}" 'BEGIN { printf "%.0f %%", 100 * a / b }')" - - \
				"Redis + PostgreSQL ${rps[stores-$path]}/s of memory stores ${rps[memory-$path]}/s"
		done
	fi
}

elapsed_seconds() { # the "Elapsed (wall clock)" of /usr/bin/time -v, in seconds
	awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$1"
}

max_rss_mib() {
	awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"
}

stage_csv_ingest() {
	local n
	for n in "${TICKS[@]}"; do
		[[ -f $WORK/ticks-$n.csv ]] || "$WORK/pricegen" -stocks 50 -ticks "$n" -start 000000 -end 235959 -o "$WORK/ticks-$n.csv"
		redis-cli -p "$INGEST_PORT" FLUSHALL >/dev/null
		/usr/bin/time -v -o "$WORK/time-$n.txt" env PRICE_STORE=redis REDIS_ADDR="127.0.0.1:$INGEST_PORT" \
			STOCKS="$(seq -s, -f 'stock%g' 1 50)" PRICE_SOURCE=csv PRICE_CSV="$WORK/ticks-$n.csv" \
			"$BIN" update >>"$WORK/stockd.log" 2>&1
		local s rss
		s=$(elapsed_seconds "$WORK/time-$n.txt")
		rss=$(max_rss_mib "$WORK/time-$n.txt")
		row "CSV -> Redis, $n ticks (50 stocks, one day)" "$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.0f ticks/s", n / s }')" - - \
			"${s} s, peak RSS ${rss} MiB"
	done
}

# kafka_ingest N CSV NAMES REDIS-PORT WHAT: `stockd produce` of CSV (N
# ticks) to a kfake broker of its own, then `stockd update` with
# PRICE_SOURCE=kafka from its start until stockd_ticks_applied_total
# reaches N, into the (flushed) Redis on REDIS-PORT; NAMES is the STOCKS=
# or STOCKS_FILE= setting, WHAT says what the ticks are in the rows. The
# update's row notes the CPU stockd and Redis spent per tick.
kafka_ingest() {
	local n=$1 csv=$2 names=$3 rport=$4 what=$5 kport uport
	kport=$(free_port)
	"$WORK/kfake" -port "$kport" >"$WORK/kfake.log" 2>&1 &
	local kpid=$!
	started $kpid
	wait_port "$kport"
	local env="PRICE_STORE=redis REDIS_ADDR=127.0.0.1:$rport $names
		PRICE_CSV=$csv KAFKA_BROKERS=127.0.0.1:$kport KAFKA_TOPIC=loadtest KAFKA_GROUP=loadtest"
	redis-cli -p "$rport" FLUSHALL >/dev/null
	local t0 t1
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	env $env "$BIN" produce >>"$WORK/stockd.log" 2>&1
	t1=$(date +%s.%N)
	row "stockd produce, $n ticks to kfake$what" "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f ticks/s", n / (b - a) }')" - - \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')"

	local rpid r0 r1 c1
	rpid=$(redis_pid "$rport")
	r0=$(cpu_ticks "$rpid")
	uport=$(free_port)
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086
	env $env PRICE_SOURCE=kafka UPDATER_ADDR="127.0.0.1:$uport" "$BIN" update >>"$WORK/stockd.log" 2>&1 &
	local upid=$!
	started $upid
	local applied=0 deadline=$((SECONDS + 300))
	while ((SECONDS < deadline)); do
		applied=$(curl -sf "http://127.0.0.1:$uport/metrics" 2>/dev/null |
			awk '/^stockd_ticks_applied_total / { printf "%.0f", $2 }') || applied=0
		((${applied:-0} >= n)) && break
		sleep 0.05
	done
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$upid") r1=$(cpu_ticks "$rpid")
	stop "$upid"
	stop "$kpid"
	((${applied:-0} >= n)) || { echo "kafka: $applied of $n ticks applied in 300 s" >&2; return 1; }
	row "Kafka -> Redis, $n ticks (kfake, own process$what)" "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f ticks/s", n / (b - a) }')" - - \
		"$(awk -v a="$t0" -v b="$t1" -v n="$n" -v c="$c1" -v r="$((r1 - r0))" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { printf "%.2f s from start to last tick applied; CPU a tick: stockd %.1f us, Redis %.1f us", b - a, c / hz * 1e6 / n, r / hz * 1e6 / n }')"
}

# redis_pid PORT: the pid of the redis-server this script started on PORT.
redis_pid() {
	local d
	for d in "$WORK"/*/; do
		if [[ -f $d/port && $(cat "$d/port") == "$1" ]]; then
			cat "$d/pid"
			return 0
		fi
	done
	echo 0
}

stage_kafka() {
	local n=$KAFKA_TICKS
	[[ -f $WORK/ticks-$n.csv ]] || "$WORK/pricegen" -stocks 50 -ticks "$n" -start 000000 -end 235959 -o "$WORK/ticks-$n.csv"
	kafka_ingest "$n" "$WORK/ticks-$n.csv" "STOCKS=$(seq -s, -f 'stock%g' 1 50)" "$INGEST_PORT" ""
}

stage_yardsticks() {
	local db
	db=$(scratch_db pgbench)
	psql -q "$PG_SERVER/postgres" -c "CREATE DATABASE \"$db\""
	psql -q "$PG_SERVER/$db" -c "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v bigint NOT NULL)"
	echo "INSERT INTO t (v) VALUES (1);" >"$WORK/insert.sql"
	local out tps lat
	out=$(pgbench -n -M prepared -c "$CONNS_BUY" -j 2 -T "$DUR" -f "$WORK/insert.sql" "$PG_SERVER/$db" 2>&1)
	tps=$(awk -F'= ' '/^tps/ { printf "%.0f", $2; exit }' <<<"$out")
	lat=$(awk -F'= ' '/^latency average/ { print $2; exit }' <<<"$out")
	row "yardstick: pgbench, one INSERT per transaction, -c$CONNS_BUY" "$tps" - - "latency average $lat"
	local p n
	for p in 1 16; do
		n=$((p == 1 ? 200000 : 2000000))
		[[ $QUICK == 1 ]] && n=$((n / 10))
		while read -r line; do
			[[ -n $line ]] || continue
			local cmd rps p50
			cmd=${line%%:*}
			rps=$(grep -o '[0-9.]* requests per second' <<<"$line" | awk '{ printf "%.0f", $1 }')
			p50=$(grep -o 'p50=[0-9.]*' <<<"$line" | cut -d= -f2)
			row "yardstick: redis-benchmark $cmd -P $p -c$CONNS_BUY" "$rps" "${p50:--}" - "$n requests"
		done < <(redis-benchmark -h 127.0.0.1 -p "$INGEST_PORT" -c "$CONNS_BUY" -n "$n" -P "$p" -t set,get -q 2>/dev/null | tr '\r' '\n' | grep 'requests per second')
	done
}

# --- market (issue 25) ------------------------------------------------------------
#
# What 10,000 stocks cost (docs/market.md): a Redis of its own, a scratch
# database, the stocks as STOCKS_FILE (stock1..stockN, one a line), and the
# same binary at 3 stocks (STOCKS=stock1,stock2,stock3) as the yardstick.

market_names() { # N: the STOCKS= or STOCKS_FILE= setting of N stocks
	if (($1 == 3)); then
		echo "STOCKS=stock1,stock2,stock3"
		return
	fi
	[[ -f $WORK/stocks-$1.txt ]] || seq -f 'stock%g' 1 "$1" >"$WORK/stocks-$1.txt"
	echo "STOCKS_FILE=$WORK/stocks-$1.txt"
}

# market_env N REDIS DB: the environment of stockd with N stocks on a
# Redis and a database (DB "" for orders in memory).
market_env() {
	local orders="ORDER_STORE=memory"
	[[ -n $3 ]] && orders="ORDER_STORE=postgres DATABASE_URL=$PG_SERVER/$3?sslmode=disable"
	echo "PRICE_STORE=redis REDIS_ADDR=$2 $orders $(market_names "$1") SEED_USERS=$(seed_of "$ALL_USERS")" \
		"AUTH=off RATE_LIMIT=0 STREAM_LIMIT_PER_CLIENT=100000 STREAM_LIMIT=100000"
}

used_memory() { redis-cli -p "$1" INFO memory | awk -F: '/^used_memory:/ { print $2 + 0 }'; }

# market_ready N REDIS: starts stockd serve with N stocks, prints the
# milliseconds from its start to the first /readyz 200 (polled every 10
# ms) and its VmRSS then, in KiB.
market_ready() {
	local env addr pid t0 t1
	env=$(market_env "$1" "$2" "")
	for _ in 1 2 3 4 5; do
		addr=127.0.0.1:$(free_port)
		t0=$(date +%s%N)
		# shellcheck disable=SC2086
		env $env HTTP_ADDR="$addr" "$BIN" serve >"$WORK/serve-ready-$1.log" 2>&1 &
		pid=$!
		started $pid
		local i
		for ((i = 0; i < 3000; i++)); do
			curl -sf -o /dev/null "http://$addr/readyz" && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.01
		done
		t1=$(date +%s%N)
		if kill -0 "$pid" 2>/dev/null && ((i < 3000)); then
			echo "$(((t1 - t0) / 1000000)) $(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
			stop "$pid"
			return 0
		fi
		stop "$pid"
		grep -q 'address already in use' "$WORK/serve-ready-$1.log" || break
	done
	echo "stockd serve with $1 stocks did not become ready:" >&2
	tail -3 "$WORK/serve-ready-$1.log" | cut -c1-300 >&2
	return 1
}

# market_csv PORT: a market day (MARKET_STOCKS x MARKET_MINUTES minutes x 2
# ticks) into the flushed Redis on PORT with stockd update: ticks/s, peak
# RSS, and Redis's used_memory per stock-day.
market_csv() {
	local port=$1 n=$((MARKET_STOCKS * MARKET_MINUTES * 2)) csv=$WORK/market-day.csv
	local end
	end=$(printf '%02d%02d59' $(((570 + MARKET_MINUTES - 1) / 60)) $(((570 + MARKET_MINUTES - 1) % 60)))
	[[ -f $csv ]] || "$WORK/pricegen" -stocks "$MARKET_STOCKS" -ticks "$n" -start 093000 -end "$end" -o "$csv"
	redis-cli -p "$port" FLUSHALL >/dev/null
	local m0 m1 rpid r0 r1
	m0=$(used_memory "$port") rpid=$(redis_pid "$port") r0=$(cpu_ticks "$rpid")
	# shellcheck disable=SC2086
	/usr/bin/time -v -o "$WORK/time-market.txt" env PRICE_STORE=redis REDIS_ADDR="127.0.0.1:$port" \
		$(market_names "$MARKET_STOCKS") PRICE_SOURCE=csv PRICE_CSV="$csv" "$BIN" update >>"$WORK/stockd.log" 2>&1
	r1=$(cpu_ticks "$rpid") m1=$(used_memory "$port")
	local s rss cpu
	s=$(elapsed_seconds "$WORK/time-market.txt")
	rss=$(max_rss_mib "$WORK/time-market.txt")
	cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.1f", u + s }' "$WORK/time-market.txt")
	row "market: CSV -> Redis, $n ticks ($MARKET_STOCKS stocks x $MARKET_MINUTES minutes x 2, one day)" \
		"$(awk -v n="$n" -v s="$s" 'BEGIN { printf "%.0f ticks/s", n / s }')" - - \
		"${s} s, peak RSS ${rss} MiB; CPU stockd ${cpu} s, Redis $(awk -v r="$((r1 - r0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", r / hz }') s (target 3M ticks/s)"
	row "market: Redis used_memory per stock-day ($MARKET_MINUTES minutes, latest day)" \
		"$(awk -v d="$((m1 - m0))" -v n="$MARKET_STOCKS" 'BEGIN { printf "%.1f KB", d / n / 1000 }')" - - \
		"$((m1 - m0)) bytes for $MARKET_STOCKS stocks; MEMORY USAGE stock1 = $(redis-cli -p "$port" MEMORY USAGE stock1) bytes, STRLEN $(redis-cli -p "$port" STRLEN stock1)"
	echo "$((m1 - m0))" >"$WORK/market-day-bytes"
}

# market_days PORT: MARKET_DAYS_STOCKS stocks x 5 days (the 5 days before
# today, MARKET_MINUTES minutes x 2 ticks each) into the flushed Redis on
# PORT, with PRICE_HISTORY_DAYS=30 (all kept) and =2 (the older days
# dropped): used_memory per stock-day kept, and what PRICE_HISTORY_DAYS x
# stocks costs.
market_days() {
	local port=$1 stocks=$MARKET_DAYS_STOCKS days=5 csv=$WORK/market-days.csv
	local first end
	first=$(date -u -d "-$days days" +%F)
	end=$(printf '%02d%02d59' $(((570 + MARKET_MINUTES - 1) / 60)) $(((570 + MARKET_MINUTES - 1) % 60)))
	[[ -f $csv ]] || "$WORK/pricegen" -stocks "$stocks" -ticks $((stocks * MARKET_MINUTES * 2 * days)) \
		-start 093000 -end "$end" -date "$first" -days "$days" -o "$csv"
	local keep
	for keep in 30 2; do
		redis-cli -p "$port" FLUSHALL >/dev/null
		local m0 m1 kept
		m0=$(used_memory "$port")
		# shellcheck disable=SC2086
		env PRICE_STORE=redis REDIS_ADDR="127.0.0.1:$port" $(market_names "$stocks") PRICE_SOURCE=csv \
			PRICE_CSV="$csv" PRICE_HISTORY_DAYS=$keep APP_TIMEZONE=UTC "$BIN" update >>"$WORK/stockd.log" 2>&1
		m1=$(used_memory "$port")
		kept=$(($(redis-cli -p "$port" --scan --pattern 'stockd:day:*' | wc -l) + stocks))
		row "market: Redis used_memory, $stocks stocks x $days days, PRICE_HISTORY_DAYS=$keep" \
			"$(awk -v d="$((m1 - m0))" -v n="$kept" 'BEGIN { printf "%.1f KB a stock-day", d / n / 1000 }')" - - \
			"$((m1 - m0)) bytes, $kept stock-days kept ($MARKET_MINUTES minutes each)"
		if ((keep == 30)); then
			local per
			per=$(awk -v d="$((m1 - m0))" -v n="$kept" 'BEGIN { printf "%.0f", d / n }')
			row "market: PRICE_HISTORY_DAYS=30 x 10,000 stocks ($MARKET_MINUTES-minute days)" \
				"$(awk -v p="$per" 'BEGIN { printf "%.1f GB", p * 31 * 10000 / 1e9 }')" - - \
				"$per bytes a stock-day x (30 earlier days + the latest) x 10,000 (x 1440/$MARKET_MINUTES for 24-hour days)"
		fi
	done
}


# market_http REDIS-ADDR DB: BuyStock and GET /api/stocks?limit=100, with
# 10,000 stocks and with 3, interleaved, MARKET_ROUNDS rounds; then the
# whole listing of 10,000 once. The 10,000-stock buys are of stocks far
# into the list.
market_http() {
	local redis=$1 db=$2 round size
	for ((round = 1; round <= MARKET_ROUNDS; round++)); do
		for size in 3 "$MARKET_STOCKS"; do
			local addr stocks
			addr=$(serve_env "market-$size" "$(market_env "$size" "$redis" "$db")")
			if ((size == 3)); then
				stocks=stock1,stock2,stock3
			else
				stocks=stock$((size - 2)),stock$((size - 1)),stock$size,stock$((size / 2)),stock$((size * 9 / 10))
			fi
			bench "market r$round: BuyStock, $size stocks ($stocks), 64 users, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy "$(users_of 64)" "$stocks"
			if curl -sf "http://$addr/api/stocks?limit=100" | grep -q '"next"'; then
				bench "market r$round: GET /api/stocks?limit=100, $size stocks, -c$CONNS_LIST" "$CONNS_LIST" "http://$addr" get "/api/stocks?limit=100"
				# The same answer at both sizes (three quotes): what the number
				# of stocks configured costs, apart from the size of a page.
				bench "market r$round: GET /api/stocks?limit=3, $size stocks, -c$CONNS_LIST" "$CONNS_LIST" "http://$addr" get "/api/stocks?limit=3"
			else
				row "market r$round: GET /api/stocks?limit=100, $size stocks" pending - - "this stockd has no paged listing (no \"next\")"
			fi
			if ((round == MARKET_ROUNDS && size != 3)); then
				local bytes
				bytes=$(curl -sf "http://$addr/api/stocks" | wc -c)
				bench "market: GET /api/stocks (all $size, $bytes bytes), -c$CONNS_LIST" "$CONNS_LIST" "http://$addr" get "/api/stocks"
			fi
			stop "$(cat "$WORK/market-$size.pid")"
		done
	done
}

# market_stream REDIS-ADDR PORT: ticks at MARKET_RATE/s across
# MARKET_STOCKS stocks from Kafka (kfake, stockd update) while N clients
# each watch 50 stocks on one GET /api/stream (scripts/market/streamload):
# the delay from a tick's hand-over to Kafka to the event that shows it,
# and stockd serve's memory per client, for each N of MARKET_CLIENTS.
market_stream() {
	local redis=$1 rport=$2 kport uport
	local addr clients
	redis-cli -p "$rport" FLUSHALL >/dev/null
	addr=$(serve_env market-stream "$(market_env "$MARKET_STOCKS" "$redis" "")")
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/api/stream?stocks=stock1" --max-time 1) || true
	if [[ $code == 404 ]]; then
		row "market: stream, $MARKET_RATE ticks/s across $MARKET_STOCKS stocks" pending - - "this stockd has no GET /api/stream"
		stop "$(cat "$WORK/market-stream.pid")"
		return 0
	fi
	kport=$(free_port)
	"$WORK/kfake" -port "$kport" >"$WORK/kfake-stream.log" 2>&1 &
	local kpid=$!
	started $kpid
	wait_port "$kport"
	uport=$(free_port)
	# shellcheck disable=SC2086
	env PRICE_STORE=redis REDIS_ADDR="$redis" $(market_names "$MARKET_STOCKS") PRICE_SOURCE=kafka \
		KAFKA_BROKERS="127.0.0.1:$kport" KAFKA_TOPIC=market KAFKA_GROUP=market UPDATER_ADDR="127.0.0.1:$uport" \
		"$BIN" update >>"$WORK/stockd.log" 2>&1 &
	local upid=$!
	started $upid
	for clients in ${MARKET_CLIENTS//,/ }; do
		local out
		out=$("$WORK/streamload" -url "http://$addr" -brokers "127.0.0.1:$kport" -topic market \
			-stocks "$MARKET_STOCKS" -clients "$clients" -watch 50 -rate "$MARKET_RATE" -duration "${MARKET_STREAM_SECONDS}s" \
			-pid "$(cat "$WORK/market-stream.pid")" 2>"$WORK/streamload-$clients.log") ||
			{ tail -5 "$WORK/streamload-$clients.log" >&2; stop "$upid"; stop "$kpid"; return 1; }
		local p50 p99 max rate kb seen lost ended
		read -r p50 p99 max rate kb seen lost ended <<<"$(grep '^RESULT' <<<"$out" | cut -d' ' -f2-)"
		row "market: stream, $clients clients x 50 stocks, $MARKET_RATE ticks/s across $MARKET_STOCKS stocks" \
			"${rate} events/s" "$p50" "$p99" "tick -> event: max ${max} ms, $seen tick deliveries timed, $lost watched ticks never shown, $ended streams ended early; stockd serve ${kb} KB a client (target p99 < 1000 ms)"
	done
	stop "$upid"
	stop "$kpid"
	stop "$(cat "$WORK/market-stream.pid")"
}

stage_market() {
	start_redis "$WORK/market"
	local port redis db
	port=$(cat "$WORK/market/port")
	redis=127.0.0.1:$port
	db=$(scratch_db market)
	local env
	env=$(market_env "$MARKET_STOCKS" "$redis" "$db")
	stockd_cmd "$env" migrate
	stockd_cmd "$env" seed-users

	local parts=,${LOADTEST_MARKET_PARTS:-csv,ready,http,days,kafka,stream},
	if [[ $parts == *,csv,* || $parts == *,http,* ]]; then
		market_csv "$port"
		# The buys and listings read the day just ingested; the users were
		# seeded before it (FLUSHALL), so seed them again.
		stockd_cmd "$env" seed-users
	fi
	if [[ $parts == *,ready,* ]]; then
		local size
		for size in 3 10000 100000 3 10000 100000; do
			local ms kb
			read -r ms kb <<<"$(market_ready "$size" "$redis")"
			row "market: stockd serve, start to /readyz 200, $size stocks" "$ms ms" - - "VmRSS then $((kb / 1024)) MiB"
		done
	fi
	[[ $parts != *,http,* ]] || market_http "$redis" "$db"
	[[ $parts != *,days,* ]] || market_days "$port"
	if [[ $parts == *,kafka,* ]]; then
		local kn=$MARKET_KAFKA_TICKS
		[[ -f $WORK/market-kafka.csv ]] || "$WORK/pricegen" -stocks "$MARKET_STOCKS" -ticks "$kn" -start 093000 -end 155959 -o "$WORK/market-kafka.csv"
		kafka_ingest "$kn" "$WORK/market-kafka.csv" "$(market_names "$MARKET_STOCKS")" "$port" ", $MARKET_STOCKS stocks; target 500k ticks/s"
	fi
	[[ $parts != *,stream,* ]] || market_stream "$redis" "$port"
}

# --- positions (issue 26) ---------------------------------------------------------
#
# SellStock against BuyStock in the same run (64 users x 3 stocks: the buys
# make the positions the sales then sell), two rounds, with the CPU stockd
# and its Redis spend a request; then GET /api/users/{user}/positions of a
# user holding 100 stocks. With LOADTEST_STOCKD set to a build without
# SellStock, only the buys run (the "before" of an interleaved pair).

# per_request PID REDIS-PID FUNC ARGS...: runs a bench, then a row of the
# CPU stockd and Redis spent a request over it.
per_request() {
	local pid=$1 rpid=$2
	shift 2
	local c0 r0 c1 r1 n
	c0=$(cpu_ticks "$pid") r0=$(cpu_ticks "$rpid")
	"$@"
	c1=$(cpu_ticks "$pid") r1=$(cpu_ticks "$rpid")
	read -r _ _ n <"$WORK/last-bench"
	row "  CPU a request of the row above" - - - "$(awk -v c="$((c1 - c0))" -v r="$((r1 - r0))" -v n="$n" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "stockd %.1f us, Redis %.1f us", c / hz * 1e6 / n, r / hz * 1e6 / n }')"
}

stage_positions() {
	start_redis "$WORK/positions"
	local port redis db addr pid rpid
	port=$(cat "$WORK/positions/port")
	redis=127.0.0.1:$port
	rpid=$(cat "$WORK/positions/pid")
	db=$(scratch_db positions)
	prepare "$redis" "$db"
	addr=$(serve positions "$redis" "$db")
	pid=$(cat "$WORK/positions.pid")
	local selling=1
	[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$addr/api/sell-stock" -H 'Content-Type: application/json' \
		-d '{"user":"u1","stockname":"stock1","quantity":1}') == 201 ]] || selling=0
	local round
	for round in 1 2; do
		per_request "$pid" "$rpid" bench "positions r$round: BuyStock, 64 users x 3 stocks, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" buy "$(users_of 64)" "$STOCKS"
		if ((selling)); then
			per_request "$pid" "$rpid" bench "positions r$round: SellStock, 64 users x 3 stocks, -c$CONNS_BUY" "$CONNS_BUY" "http://$addr" sell "$(users_of 64)" "$STOCKS"
		fi
	done
	if ((selling)); then
		local accepted
		accepted=$(psql -At "$PG_SERVER/$db" -c "SELECT side || ' ' || status || ' ' || count(*) FROM orders GROUP BY side, status ORDER BY side, status" | paste -sd';')
		row "positions: orders by side and status" - - - "$accepted"
	fi
	stop "$pid"
	((selling)) || return 0

	# A user holding 100 stocks.
	local env
	env="PRICE_STORE=redis ORDER_STORE=postgres REDIS_ADDR=$redis DATABASE_URL=$PG_SERVER/$db?sslmode=disable $(market_names 100)"
	env+=" SEED_USERS=holder:$CREDIT AUTH=off RATE_LIMIT=0"
	[[ -f $WORK/hundred.csv ]] || "$WORK/pricegen" -stocks 100 -ticks 2000 -o "$WORK/hundred.csv"
	stockd_cmd "$env PRICE_SOURCE=csv PRICE_CSV=$WORK/hundred.csv" update
	stockd_cmd "$env" seed-users
	addr=$(serve_env positions100 "$env")
	local i
	for ((i = 1; i <= 100; i++)); do
		curl -sf -o /dev/null -X POST "http://$addr/api/buy-stock" -H 'Content-Type: application/json' \
			-d "{\"user\":\"holder\",\"stockname\":\"stock$i\",\"quantity\":$i}"
	done
	local held
	held=$(curl -sf "http://$addr/api/users/holder/positions" | grep -o '"stock":' | wc -l)
	bench "GET /api/users/holder/positions, $held positions, -c$CONNS_LIST" "$CONNS_LIST" "http://$addr" get "/api/users/holder/positions"
	stop "$(cat "$WORK/positions100.pid")"
}

# --- the run -------------------------------------------------------------------

need go
need redis-server
need redis-cli
need redis-benchmark
need psql
need pgbench
need curl
need wrk wrk
[[ -x /usr/bin/time ]] || need /usr/bin/time time

log "building stockd, pricegen, kfake, streamload"
BIN=$WORK/stockd
if [[ -n ${LOADTEST_STOCKD:-} ]]; then
	cp "$LOADTEST_STOCKD" "$BIN"
else
	go build -o "$BIN" ./cmd/stockd
fi
go build -o "$WORK/pricegen" ./cmd/pricegen
go build -o "$WORK/kfake" ./scripts/kfake
go build -o "$WORK/streamload" ./scripts/market/streamload

log "starting Redis (single, cluster, ingest) and scratch databases"
start_redis "$WORK/redis"
REDIS_PORT=$(cat "$WORK/redis/port")
REDIS=127.0.0.1:$REDIS_PORT
start_redis "$WORK/ingest"
INGEST_PORT=$(cat "$WORK/ingest/port")
start_cluster >"$WORK/cluster-addrs"
CLUSTER=$(cat "$WORK/cluster-addrs")
CLUSTER_PORT=${CLUSTER%%,*}
CLUSTER_PORT=${CLUSTER_PORT##*:}
DB=$(scratch_db single)
DB_CLUSTER=$(scratch_db cluster)
prepare "$REDIS" "$DB"

stage ceiling "memory stores and Redis + PostgreSQL side by side" side_by_side share
stage cpu "CPU per request of stockd, Redis and PostgreSQL" side_by_side cpu
stage buy "BuyStock, single Redis" stage_buy_single
stage cluster "BuyStock, Redis Cluster" stage_buy_cluster
stage orders "orders page" stage_orders_page
stage csv "CSV ingest" stage_csv_ingest
stage kafka "Kafka ingest" stage_kafka
stage yardsticks "yardsticks" stage_yardsticks
stage market "market: 10,000 stocks (issue 25)" stage_market
stage positions "positions: SellStock against BuyStock, a portfolio of 100 (issue 26)" stage_positions
stage buy "reconcile, single Redis" reconcile single "$REDIS" "$DB" "-p $REDIS_PORT"
if grep -q 'Redis Cluster' "$FAILED"; then
	row "reconcile, Redis Cluster" skipped - - "its BuyStock stage failed"
else
	stage cluster "reconcile, Redis Cluster" reconcile cluster "$CLUSTER" "$DB_CLUSTER" "-c -p $CLUSTER_PORT"
fi

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
echo
echo "stockd load test, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git describe --always --dirty 2>/dev/null || echo unknown)"
echo "machine: $(nproc) CPUs ($cpu), $mem; $(redis-server --version | awk '{ print $3 }'), $(psql -At "$PG_SERVER/postgres" -c 'SHOW server_version')"
echo "wrk -t2 -d${DUR}s; quick=$QUICK"
echo
echo "| workload | requests/s | p50 ms | p99 ms | notes |"
echo "| --- | ---: | ---: | ---: | --- |"
cat "$RESULTS"
if [[ -s $WORK/pprof.txt ]]; then
	echo
	echo "CPU profile of stockd serve during the first BuyStock run (go tool pprof -top, then -top -cum):"
	echo '```'
	sed -n '5,26p' "$WORK/pprof.txt"
	echo
	sed -n '7,47p' "$WORK/pprof-cum.txt"
	echo '```'
elif ! grep -qa DEBUG_ADDR "$BIN"; then
	echo
	echo "(no CPU profile: this stockd has no DEBUG_ADDR)"
fi
if [[ -s $FAILED ]]; then
	echo
	echo "FAILED stages: $(paste -sd, "$FAILED")"
	exit 1
fi
