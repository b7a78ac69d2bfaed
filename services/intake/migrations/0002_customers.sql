-- Customers and their personal data, consent to share it, and the log of every unmasked read.
-- No personal value is stored in clear: *_enc columns hold AES-256-GCM blobs (key id || nonce ||
-- ciphertext, services/intake/vault.py), *_index columns keyed hashes for exact lookups.
-- Region and district stay in clear: routing and reports need them, they identify nobody.

CREATE TABLE customers (
    id               uuid PRIMARY KEY,
    account_no_enc   bytea NOT NULL,
    account_no_index bytea NOT NULL UNIQUE,
    name_enc         bytea NOT NULL,
    id_number_enc    bytea,
    email_enc        bytea,
    email_index      bytea,
    region           text NOT NULL,
    district         text,
    address_line_enc bytea,
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- e-mail addresses (like phones) may be shared within a household: not unique
CREATE INDEX customers_email_index ON customers (email_index) WHERE email_index IS NOT NULL;

CREATE TABLE customer_phones (
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    position    smallint NOT NULL,
    phone_enc   bytea NOT NULL,
    phone_index bytea NOT NULL,
    PRIMARY KEY (customer_id, position),
    UNIQUE (customer_id, phone_index)
);
CREATE INDEX customer_phones_index ON customer_phones (phone_index);

-- One row per decision (grant or withdrawal), never changed: the latest decision per purpose
-- is the current state, the rest is its history.
CREATE TABLE customer_consents (
    id          bigserial PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id),
    purpose     text NOT NULL,
    granted     boolean NOT NULL,
    channel     text NOT NULL,
    decided_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text NOT NULL,
    correlation_id text
);
CREATE INDEX customer_consents_latest
    ON customer_consents (customer_id, purpose, decided_at DESC, id DESC);
CALL append_only('customer_consents');

-- Who saw which customer's data unmasked, which fields, why and when. No foreign key: the
-- record of an access outlives the customer record it was about.
CREATE TABLE pii_access_log (
    id             bigserial PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    accessed_by    text NOT NULL,
    customer_id    uuid NOT NULL,
    fields         text[] NOT NULL,
    reason         text NOT NULL CHECK (btrim(reason) <> ''),
    correlation_id text
);
CREATE INDEX pii_access_log_customer ON pii_access_log (customer_id, at DESC, id DESC);
CREATE INDEX pii_access_log_at ON pii_access_log (at DESC, id DESC);
CALL append_only('pii_access_log');
