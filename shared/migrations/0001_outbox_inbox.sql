-- The delivery mechanisms every service schema has: the outbox (events written in the business
-- transaction, published by the relay) and the inbox (event ids already handled).
CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    type         text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
-- the relay's claim reads only this, however large the published history grows
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE inbox (
    event_id    text PRIMARY KEY,
    type        text NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now()
);
