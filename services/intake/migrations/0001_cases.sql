-- Cases: consultations and complaints, and the sequences behind their readable numbers.
CREATE SEQUENCE case_no_complaint;
CREATE SEQUENCE case_no_consultation;

-- TS20261124-0007: never reused (a sequence never goes back), at least four digits
CREATE FUNCTION case_number(prefix text, n bigint, on_day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT prefix || to_char(on_day, 'YYYYMMDD') || '-'
        || CASE WHEN n < 10000 THEN lpad(n::text, 4, '0') ELSE n::text END
$$;

CREATE TABLE cases (
    id                uuid PRIMARY KEY,
    case_no           text NOT NULL UNIQUE,
    kind              text NOT NULL CHECK (kind IN ('consultation', 'complaint')),
    channel           text NOT NULL,
    category          text NOT NULL,
    region            text NOT NULL,
    priority          text NOT NULL,
    customer_ref      text NOT NULL,
    content           text NOT NULL,
    identity_verified boolean NOT NULL,
    state             text NOT NULL DEFAULT 'open',
    agent_id          text,
    received_at       timestamptz NOT NULL,
    opened_at         timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_opened_at ON cases (opened_at);
