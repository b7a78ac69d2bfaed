-- Idempotency-Key (shared/idempotency.py): a key per caller, the fingerprint of the request it
-- came with and the answer given, written in the transaction of what the request made.
CREATE TABLE idempotency_keys (
    caller      text NOT NULL,
    key         text NOT NULL,
    fingerprint bytea NOT NULL,
    status      smallint,
    body        text,
    location    text,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (caller, key)
);
-- expired keys are deleted oldest first, a few at a time
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
