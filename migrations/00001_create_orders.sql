-- +goose Up
-- Orders as the contract fixes them, plus order_key: the key that makes
-- recording an order idempotent (a retried or recovered insert finds it).
CREATE TABLE orders (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_key     text        NOT NULL UNIQUE,
    "user"        text        NOT NULL,
    stock         text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('accepted', 'denied')),
    creation_date timestamptz NOT NULL DEFAULT now(),
    price         bigint      NOT NULL CHECK (price > 0),
    quantity      bigint      NOT NULL CHECK (quantity > 0)
);

-- The listing (domain.Visibility) is the union of two ordered streams, one
-- index each, so that a page reads about as many rows as it returns:
-- accepted orders, newest first ...
CREATE INDEX orders_accepted_listing ON orders (creation_date DESC, id DESC)
    WHERE status = 'accepted';
-- ... and denied orders of at least domain.MinVisibleDeniedQuantity (10)
-- shares, read by a creation_date range (today).
CREATE INDEX orders_denied_listing ON orders (creation_date DESC, id DESC)
    WHERE status = 'denied' AND quantity >= 10;

-- +goose Down
DROP TABLE orders;
