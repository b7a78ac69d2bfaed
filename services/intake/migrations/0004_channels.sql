-- Channel adapters: calls posted by the call-centre system, e-mails forwarded by the mail gateway.
-- Phone numbers and sender addresses are personal data: *_enc columns hold vault blobs
-- (services/intake/vault.py), *_index columns blind indexes for exact lookups; never clear text.

-- One row per call. caller_* is the customer's number: the caller of an inbound call, the
-- number dialled for an outbound one.
CREATE TABLE calls (
    id           uuid PRIMARY KEY,
    caller_enc   bytea NOT NULL,
    caller_index bytea NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('in', 'out')),
    agent_id     text NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz CHECK (ended_at IS NULL OR ended_at >= started_at),
    customer_id  uuid,
    candidates   integer NOT NULL,
    case_id      uuid REFERENCES cases (id),
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX calls_caller ON calls (caller_index);
CREATE INDEX calls_customer ON calls (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX calls_case ON calls (case_id) WHERE case_id IS NOT NULL;

-- One row per e-mail received. message_id is unique: a gateway's retry is recognised and
-- answered with the case it made the first time. Attachments are listed, never stored.
CREATE TABLE emails (
    id           uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases (id),
    joined       boolean NOT NULL,
    message_id   text NOT NULL UNIQUE,
    sender_enc   bytea NOT NULL,
    sender_index bytea NOT NULL,
    customer_id  uuid,
    subject      text NOT NULL,
    received_at  timestamptz NOT NULL,
    attachments  jsonb NOT NULL DEFAULT '[]',
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_case ON emails (case_id, sender_index);
CREATE INDEX emails_sender ON emails (sender_index);
