-- +goose NO TRANSACTION
-- +goose Up
-- An order buys or sells (GET /api/orders?side=). The default makes every
-- row written before sales existed, or by hand with the original columns,
-- a buy. A constant default adds the column without rewriting the table;
-- the check is added NOT VALID and validated apart, so that validating
-- reads the table without blocking its writers.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS side text NOT NULL DEFAULT 'buy';
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_side_check;
ALTER TABLE orders ADD CONSTRAINT orders_side_check CHECK (side IN ('buy', 'sell')) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_side_check;
-- One side's listing, everyone's or one user's: both branches of the
-- visibility rule read this index in order. Built concurrently, as
-- orders_user_listing is (00004).
DROP INDEX CONCURRENTLY IF EXISTS orders_side_listing;
CREATE INDEX CONCURRENTLY orders_side_listing
    ON orders (side, status, creation_date DESC, id DESC);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS orders_side_listing;
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_side_check;
ALTER TABLE orders DROP COLUMN IF EXISTS side;
