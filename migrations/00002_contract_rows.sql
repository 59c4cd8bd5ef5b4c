-- +goose Up
-- The contract lets others insert orders with its columns alone (an admin,
-- a backfill, another tool): every column the service added needs a
-- default. Such an order gets a key of its own, which no request of the
-- service will ever produce (theirs are 32 hex digits).
ALTER TABLE orders ALTER COLUMN order_key SET DEFAULT 'ext-' || gen_random_uuid();

-- +goose Down
ALTER TABLE orders ALTER COLUMN order_key DROP DEFAULT;
