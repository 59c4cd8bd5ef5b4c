-- +goose Up
-- The fence between a denied order and the settler (see
-- OrderRepository.Forgo). A denied order is stored only by the statement
-- that also claims its key here; the settler, before it frees an
-- idempotency key whose request left no order, claims that order's key
-- here too. Both go through this one unique index, so PostgreSQL decides
-- which came first: a late INSERT of the denied order finds the key
-- claimed and stores nothing, and a settler that comes second finds the
-- order. Accepted orders are fenced in Redis instead (a debited order's
-- key is never freed) and do not claim.
CREATE TABLE order_claims (
    order_key  text        PRIMARY KEY,
    claimed_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE order_claims;
