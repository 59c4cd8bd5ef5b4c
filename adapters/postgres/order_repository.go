package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"stockd/domain"
	"stockd/ports"
)

var _ ports.OrderRepository = (*OrderRepository)(nil)

// OrderRepository keeps orders in the orders table.
type OrderRepository struct {
	pool *pgxpool.Pool
}

// NewOrderRepository returns a repository on pool.
func NewOrderRepository(pool *pgxpool.Pool) *OrderRepository { return &OrderRepository{pool: pool} }

const orderColumns = `id, order_key, "user", stock, status, price, quantity, creation_date`

// Save inserts o once per order key; a key already stored returns the
// stored row, so a retried or recovered insert cannot record twice.
func (r *OrderRepository) Save(ctx context.Context, o domain.Order) (domain.Order, error) {
	var id int64
	err := r.pool.QueryRow(ctx, `
		INSERT INTO orders (order_key, "user", stock, status, price, quantity, creation_date)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (order_key) DO NOTHING
		RETURNING id`,
		o.Key(), o.User(), o.Stock(), string(o.Status()), o.Price(), o.Quantity(), o.CreatedAt()).Scan(&id)
	if err == nil {
		return o.WithID(id), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return domain.Order{}, fmt.Errorf("insert order: %w", translate(err))
	}
	return r.ByKey(ctx, o.Key())
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

// The listing is domain.Visibility translated: accepted orders, or denied
// orders of at least MinVisibleDeniedQuantity created in [$1, $2); newest
// first; only user $4's when $4 is not empty. Each branch reads its own
// partial index (see the migration) in order, stops after $3 rows, and the
// two are merged. The cursor variant continues strictly after the row
// ($5, $6).
var (
	listFirstPage = listingSQL(false)
	listNextPage  = listingSQL(true)
)

func listingSQL(cursor bool) string {
	after := ` AND ($4 = '' OR "user" = $4)`
	if cursor {
		after += ` AND (creation_date, id) < ($5, $6)`
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
	var rows pgx.Rows
	var err error
	if q.After == nil {
		rows, err = r.pool.Query(ctx, listFirstPage, q.Visibility.DayStart, q.Visibility.DayEnd, q.Limit, q.User)
	} else {
		rows, err = r.pool.Query(ctx, listNextPage, q.Visibility.DayStart, q.Visibility.DayEnd, q.Limit, q.User,
			q.After.CreatedAt, q.After.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", translate(err))
	}
	orders, err := pgx.CollectRows(rows, scanOrder)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", translate(err))
	}
	return orders, nil
}

func scanOrder(row pgx.CollectableRow) (domain.Order, error) {
	var (
		id, price, qty   int64
		key, user, stock string
		status           string
		created          time.Time
	)
	if err := row.Scan(&id, &key, &user, &stock, &status, &price, &qty, &created); err != nil {
		return domain.Order{}, err
	}
	st, err := domain.ParseStatus(status)
	if err != nil {
		return domain.Order{}, err
	}
	return domain.OrderFromStore(id, key, user, stock, st, price, qty, created)
}
