-- +goose NO TRANSACTION
-- +goose Up
-- An order buys or sells (GET /api/orders?side=). The default makes every
-- row written before sales existed, or by hand with the original columns,
-- a buy. A constant default adds the column without rewriting the table;
-- the check is added NOT VALID and validated apart, so that validating
-- reads the table without blocking its writers. (Each ALTER still takes
-- the table's lock for an instant: behind a long transaction it waits,
-- and the writers queue behind it; migrate when none is running.)
ALTER TABLE orders ADD COLUMN IF NOT EXISTS side text NOT NULL DEFAULT 'buy';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_side_check;
ALTER TABLE orders ADD CONSTRAINT orders_side_check CHECK (side IN ('buy', 'sell')) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_side_check;
-- One side's listing, everyone's and one user's (with tokens, every
-- listing is one user's): both branches of the visibility rule read these
-- in order. Built concurrently, as orders_user_listing is (00004).
DROP INDEX CONCURRENTLY IF EXISTS orders_side_listing;
CREATE INDEX CONCURRENTLY orders_side_listing
    ON orders (side, status, creation_date DESC, id DESC);
DROP INDEX CONCURRENTLY IF EXISTS orders_user_side_listing;
CREATE INDEX CONCURRENTLY orders_user_side_listing
    ON orders ("user", side, status, creation_date DESC, id DESC);

-- +goose Down
-- Without the column every sale would read as a buy, and a reconcile
-- would then grant the shares sold: refuse while any sale is stored.
-- +goose StatementBegin
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM orders WHERE side = 'sell') THEN
        RAISE EXCEPTION 'orders holds sales: dropping side would make them buys';
    END IF;
END
$$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS orders_user_side_listing;
DROP INDEX CONCURRENTLY IF EXISTS orders_side_listing;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_side_check;
ALTER TABLE orders DROP COLUMN IF EXISTS side;
