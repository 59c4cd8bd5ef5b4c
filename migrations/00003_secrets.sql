-- +goose Up
-- Secrets every process on this database must share, created once by the
-- first process that needs one (see postgres.CursorSecret): the key that
-- authenticates paging cursors, so that a cursor issued by one API process
-- is accepted by all the others.
CREATE TABLE secrets (
    name  text  PRIMARY KEY,
    value bytea NOT NULL CHECK (length(value) >= 32)
);

-- +goose Down
DROP TABLE secrets;
