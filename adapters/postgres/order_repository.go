package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.OrderRepository = (*OrderRepository)(nil)

// OrderRepository keeps orders in the orders table. Concurrent saves are
// committed together (see groupCommit): one INSERT of many rows per flush.
type OrderRepository struct {
	pool  *pgxpool.Pool
	saves groupCommit
}

// RepositoryOption configures an OrderRepository.
type RepositoryOption func(*OrderRepository)

// WithOrderTracing makes every flush of the group commit a span of tp;
// nil keeps the default, the global provider (a no-op unless one is set).
func WithOrderTracing(tp trace.TracerProvider) RepositoryOption {
	return func(r *OrderRepository) {
		if tp != nil {
			r.saves.tracer = tp.Tracer(tracerName)
		}
	}
}

// tracerName names the spans this package starts.
const tracerName = "stockd/adapters/postgres"

// NewOrderRepository returns a repository on pool.
func NewOrderRepository(pool *pgxpool.Pool, opts ...RepositoryOption) *OrderRepository {
	r := &OrderRepository{pool: pool}
	r.saves.flush = r.flush
	r.saves.tracer = otel.GetTracerProvider().Tracer(tracerName)
	for _, opt := range opts {
		opt(r)
	}
	return r
}

const orderColumns = `id, order_key, "user", stock, side, status, price, quantity, creation_date`

// Save inserts o once per order key; a key already stored returns the
// stored row, so a retried or recovered insert cannot record twice. It
// returns once the transaction holding o has committed, together with the
// other saves that arrived meanwhile. When that transaction fails, every
// save in it fails (with ports.ErrUnavailable when the server went away):
// none of them may count as recorded.
func (r *OrderRepository) Save(ctx context.Context, o domain.Order) (domain.Order, error) {
	return r.saves.save(ctx, o)
}

// Rows are sent as one array per column, so that one statement of the same
// text carries any number of them. A denied order is inserted only if the
// same statement claims its key in order_claims (see Forgo and the
// migration 00005): a key the settler claimed first stores nothing, and
// the settler's claim waits for this statement's if it came second.
const insertOrders = `
	WITH batch AS (
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::timestamptz[], $8::text[])
			AS r(order_key, "user", stock, status, price, quantity, creation_date, side)
	), claimed AS (
		INSERT INTO order_claims (order_key)
		SELECT order_key FROM batch WHERE status = 'denied'
		ON CONFLICT (order_key) DO NOTHING
		RETURNING order_key
	)
	INSERT INTO orders (order_key, "user", stock, status, price, quantity, creation_date, side)
	SELECT * FROM batch
	WHERE status <> 'denied' OR order_key IN (SELECT order_key FROM claimed)
	ON CONFLICT (order_key) DO NOTHING
	RETURNING order_key, id`

// insert stores orders in one statement (its own transaction) and returns
// the outcome of each, in the same order. A key given twice, or already
// stored, is stored once; every order with that key gets the stored one.
// A denied order whose key was forgone gets ports.ErrOrderForgone. The
// error is the statement's: it fails them all.
func (r *OrderRepository) insert(ctx context.Context, orders []domain.Order) ([]savedOrder, error) {
	// The first order of each key, in key order: two batches that share
	// keys then lock them in the same order and cannot deadlock.
	first := map[string]domain.Order{}
	for _, o := range orders {
		if _, ok := first[o.Key()]; !ok {
			first[o.Key()] = o
		}
	}
	keys := slices.Sorted(maps.Keys(first))
	n := len(keys)
	users, stocks, statuses, sides := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prices, quantities, created := make([]int64, n), make([]int64, n), make([]time.Time, n)
	for i, k := range keys {
		o := first[k]
		users[i], stocks[i], statuses[i], sides[i] = o.User(), o.Stock(), string(o.Status()), string(o.Side())
		prices[i], quantities[i], created[i] = o.Price(), o.Quantity(), o.CreatedAt()
	}
	rows, err := r.pool.Query(ctx, insertOrders, keys, users, stocks, statuses, prices, quantities, created, sides)
	if err != nil {
		return nil, fmt.Errorf("insert orders: %w", translate(err))
	}
	stored := map[string]domain.Order{}
	var key string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&key, &id}, func() error {
		stored[key] = first[key].WithID(id)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert orders: %w", translate(err))
	}
	if len(stored) < n {
		// Keys stored or claimed before: read them (committed, since the
		// insert waited for any transaction still holding them).
		var missing []string
		for _, k := range keys {
			if _, ok := stored[k]; !ok {
				missing = append(missing, k)
			}
		}
		rows, err := r.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE order_key = ANY($1)`, missing)
		if err != nil {
			return nil, fmt.Errorf("read stored orders: %w", translate(err))
		}
		found, err := pgx.CollectRows(rows, scanOrder)
		if err != nil {
			return nil, fmt.Errorf("read stored orders: %w", translate(err))
		}
		for _, o := range found {
			stored[o.Key()] = o
		}
	}
	out := make([]savedOrder, len(orders))
	for i, o := range orders {
		s, ok := stored[o.Key()]
		switch {
		case ok:
			out[i].order = s
		case o.Status() == domain.Denied:
			// Claimed and not stored: only Forgo claims without storing.
			out[i].err = fmt.Errorf("save order %s: %w", o.Key(), ports.ErrOrderForgone)
		default:
			return nil, fmt.Errorf("order %s was neither inserted nor found", o.Key())
		}
	}
	return out, nil
}

// flush is the flush of the group commit. An outage fails the whole
// batch; a refusal (a constraint, a deadlock) is retried order by order, so
// that one order cannot fail the others.
func (r *OrderRepository) flush(ctx context.Context, orders []domain.Order) []savedOrder {
	out, err := r.insert(ctx, orders)
	switch {
	case err == nil:
		return out
	case len(orders) == 1 || errors.Is(err, ports.ErrUnavailable) || ctx.Err() != nil:
		out = make([]savedOrder, len(orders))
		for i := range out {
			out[i].err = err
		}
	default:
		out = make([]savedOrder, len(orders))
		for i := range orders {
			one, err := r.insert(ctx, orders[i:i+1])
			if err != nil {
				out[i].err = err
				continue
			}
			out[i] = one[0]
		}
	}
	return out
}

// Forgo claims key in order_claims, so that a denied order under key can
// no longer be stored, and then reads the order stored under key. The
// claim is one INSERT on the unique index that every INSERT of a denied
// order also goes through: if a statement storing that order holds the
// key, the claim waits for it and then finds the order; if the claim comes
// first, that statement stores nothing. Which came first is decided inside
// PostgreSQL, not by any clock, so a client stalled for any length of time
// (SIGSTOP, a held network) cannot store the order after the claim.
func (r *OrderRepository) Forgo(ctx context.Context, key string) (domain.Order, error) {
	if _, err := r.pool.Exec(ctx, `INSERT INTO order_claims (order_key) VALUES ($1) ON CONFLICT (order_key) DO NOTHING`, key); err != nil {
		return domain.Order{}, fmt.Errorf("claim order key %s: %w", key, translate(err))
	}
	return r.ByKey(ctx, key)
}

// ByKey reads the order saved under key.
func (r *OrderRepository) ByKey(ctx context.Context, key string) (domain.Order, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE order_key = $1`, key)
	if err != nil {
		return domain.Order{}, fmt.Errorf("read order %s: %w", key, translate(err))
	}
	stored, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	if err != nil {
		return domain.Order{}, fmt.Errorf("read order %s: %w", key, translate(err))
	}
	return stored, nil
}

// ByID reads the order with id.
func (r *OrderRepository) ByID(ctx context.Context, id int64) (domain.Order, error) {
	rows, err := r.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id)
	if err != nil {
		return domain.Order{}, fmt.Errorf("read order %d: %w", id, translate(err))
	}
	stored, err := pgx.CollectExactlyOneRow(rows, scanOrder)
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.Order{}, ports.ErrOrderNotFound
	}
	if err != nil {
		return domain.Order{}, fmt.Errorf("read order %d: %w", id, translate(err))
	}
	return stored, nil
}

// The listing is domain.Visibility translated: accepted orders, or denied
// orders of at least MinVisibleDeniedQuantity created in [$1, $2); newest
// first. Each branch reads its own index in order (see the migrations),
// stops after $3 rows, and the two are merged: the partial indexes for
// everyone's orders, orders_user_listing for one user's, and
// orders_side_listing and orders_user_side_listing for one side's. The user variant adds the user, the
// side variant the side (the next parameters in that order); the cursor
// variant continues strictly after a row (the last two). Each is a
// statement of its own rather than a "$4 = ” OR" condition, which a
// cached generic plan could not answer from the index.
var listings = func() map[listingShape]string {
	m := map[listingShape]string{}
	for _, cursor := range []bool{false, true} {
		for _, user := range []bool{false, true} {
			for _, side := range []bool{false, true} {
				k := listingShape{cursor: cursor, user: user, side: side}
				m[k] = listingSQL(k)
			}
		}
	}
	return m
}()

// listingShape is which narrowings a listing statement has.
type listingShape struct{ cursor, user, side bool }

func listingSQL(k listingShape) string {
	after, n := "", 3
	if k.user {
		n++
		after += fmt.Sprintf(` AND "user" = $%d`, n)
	}
	if k.side {
		n++
		after += fmt.Sprintf(` AND side = $%d`, n)
	}
	if k.cursor {
		after += fmt.Sprintf(` AND (creation_date, id) < ($%d, $%d)`, n+1, n+2)
	}
	return fmt.Sprintf(`
		(SELECT %[1]s FROM orders
		 WHERE status = 'accepted'%[2]s
		 ORDER BY creation_date DESC, id DESC LIMIT $3)
		UNION ALL
		(SELECT %[1]s FROM orders
		 WHERE status = 'denied' AND quantity >= %[3]d
		   AND creation_date >= $1 AND creation_date < $2%[2]s
		 ORDER BY creation_date DESC, id DESC LIMIT $3)
		ORDER BY creation_date DESC, id DESC LIMIT $3`,
		orderColumns, after, domain.MinVisibleDeniedQuantity)
}

// List returns one stretch of the listing.
func (r *OrderRepository) List(ctx context.Context, q domain.OrderQuery) ([]domain.Order, error) {
	args := []any{q.Visibility().DayStart(), q.Visibility().DayEnd(), q.Limit()}
	if q.User() != "" {
		args = append(args, q.User())
	}
	if q.Side() != "" {
		args = append(args, string(q.Side()))
	}
	after, hasAfter := q.After()
	if hasAfter {
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := r.pool.Query(ctx, listings[listingShape{cursor: hasAfter, user: q.User() != "", side: q.Side() != ""}], args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", translate(err))
	}
	// Room for the page up front: grown from empty, a page of 100 was
	// seven slices of orders (32 KB) for one.
	orders, err := pgx.AppendRows(make([]domain.Order, 0, min(q.Limit(), maxPresized)), rows, newPageRow(q.Limit()).scan)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", translate(err))
	}
	return orders, nil
}

func scanOrder(row pgx.CollectableRow) (domain.Order, error) {
	var r orderRow
	return r.scan(row)
}

// orderRow holds the columns of one order row. The text columns are read
// in place (pgtype.DriverBytes, valid until the next row, which is why
// only pgx's Collect and AppendRows functions scan into it).
//
// A page scans all its rows into one orderRow made by newPageRow, so that
// what a row costs is paid once a page: the variables given to Scan (as
// locals of a function per row, they escaped: eight allocations a row),
// the slice that passes them (one a row), the names the page repeats
// (users, stocks, statuses: made strings once) and the keys (all in one
// buffer: a strings.Builder never changes what it has written, so each
// key sliced off it stays valid as it grows).
type orderRow struct {
	id, price, qty   int64
	key, user, stock pgtype.DriverBytes
	side, status     pgtype.DriverBytes
	created          time.Time

	dest  []any             // the fields above, for Scan; nil: made per row
	names map[string]string // nil: every name a string of its own
	keys  *strings.Builder  // nil: every key a string of its own
}

// maxNames bounds the names a page keeps: a page of distinct users
// costs what it did without them.
const maxNames = 256

// maxPresized bounds the orders a page makes room for before it has
// read any: a page of a thousand asked for may hold three.
const maxPresized = 128

// newPageRow returns the orderRow that scans a page of up to limit rows.
func newPageRow(limit int) *orderRow {
	r := &orderRow{names: make(map[string]string, 8), keys: &strings.Builder{}}
	r.dest = r.fields()
	r.keys.Grow(min(limit, maxPresized) * orderKeyLen)
	return r
}

// orderKeyLen is the length of the keys stockd makes (32 hex digits), to
// size a page's key buffer; other keys only make it grow.
const orderKeyLen = 32

// fields are r's columns as Scan takes them, in orderColumns' order.
func (r *orderRow) fields() []any {
	return []any{&r.id, &r.key, &r.user, &r.stock, &r.side, &r.status, &r.price, &r.qty, &r.created}
}

func (r *orderRow) scan(row pgx.CollectableRow) (domain.Order, error) {
	dest := r.dest
	if dest == nil {
		dest = r.fields()
	}
	if err := row.Scan(dest...); err != nil {
		return domain.Order{}, err
	}
	st, err := domain.ParseStatus(r.name(r.status))
	if err != nil {
		return domain.Order{}, err
	}
	o, err := domain.OrderFromStore(r.id, r.keyString(), r.name(r.user), r.name(r.stock), st, r.price, r.qty, r.created)
	if err != nil || string(r.side) == string(domain.SideBuy) {
		return o, err // a buy, as OrderFromStore makes it
	}
	side, err := domain.ParseSide(string(r.side))
	if err != nil {
		return domain.Order{}, err
	}
	return o.WithSide(side)
}

// keyString returns the row's key as a string: for a page, a slice of
// the page's key buffer; for a single row, a string of its own. (So one
// order of a page kept keeps all the page's keys: a few KB, and nothing
// keeps a page's orders past its answer.)
func (r *orderRow) keyString() string {
	if r.keys == nil {
		return string(r.key)
	}
	start := r.keys.Len()
	r.keys.Write(r.key)
	return r.keys.String()[start:]
}

// name returns b as a string: for a page (names made), the same string
// for the same bytes; for a single row, a string of its own.
func (r *orderRow) name(b []byte) string {
	if s, ok := r.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if r.names != nil && len(r.names) < maxNames {
		r.names[s] = s
	}
	return s
}

// ledgerSQL reads the accepted orders in ledger order, everyone's or, with
// $1, one user's (from orders_user_listing). Names are ordered by bytes
// (COLLATE "C"), as Go orders strings, whatever the database's collation.
const ledgerSQL = `SELECT ` + orderColumns + ` FROM orders WHERE status = 'accepted'%s
	ORDER BY "user" COLLATE "C", stock COLLATE "C", creation_date, id`

var (
	ledgerAll  = fmt.Sprintf(ledgerSQL, "")
	ledgerUser = fmt.Sprintf(ledgerSQL, ` AND "user" = $1`)
)

// AcceptedOrders streams the ledger from one query: rows are scanned and
// handed to each as they arrive, so that memory does not grow with the
// table.
func (r *OrderRepository) AcceptedOrders(ctx context.Context, user string, each func(domain.Order) error) error {
	query, args := ledgerAll, []any(nil)
	if user != "" {
		query, args = ledgerUser, []any{user}
	}
	rows, err := r.pool.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read the ledger: %w", translate(err))
	}
	// One orderRow for every row, its names shared (see newPageRow); each
	// key a string of its own, since each may keep an order.
	row := &orderRow{names: make(map[string]string, 8)}
	row.dest = row.fields()
	defer rows.Close()
	for rows.Next() {
		o, err := row.scan(rows)
		if err != nil {
			return fmt.Errorf("read the ledger: %w", err)
		}
		if err := each(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read the ledger: %w", translate(err))
	}
	return nil
}
