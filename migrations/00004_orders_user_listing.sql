-- +goose NO TRANSACTION
-- +goose Up
-- One user's listing (GET /api/orders?user=, and every listing with
-- tokens): both branches of the visibility rule read this index in order
-- for that user, accepted orders by (user, status) newest first, denied
-- ones by (user, status) and today's creation_date range. Built
-- concurrently, so that migrating a live table does not block its writers;
-- an invalid index left by an interrupted build is dropped first.
DROP INDEX CONCURRENTLY IF EXISTS orders_user_listing;
CREATE INDEX CONCURRENTLY orders_user_listing
    ON orders ("user", status, creation_date DESC, id DESC);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS orders_user_listing;
