-- The life of a case: who it belongs to, its deadline, its department, its timeline.
ALTER TABLE cases
    ADD COLUMN customer_id     uuid,
    ADD COLUMN identity_method text,
    ADD COLUMN due_at          timestamptz,
    ADD COLUMN due_provisional boolean,
    ADD COLUMN department      text,
    ADD COLUMN assignee_id     text,
    ADD COLUMN eta             timestamptz,
    ADD COLUMN transferred     boolean NOT NULL DEFAULT false,
    ADD COLUMN first_contact   boolean,
    ADD COLUMN resolution      text,
    ADD COLUMN resolved_by     text,
    ADD COLUMN resolved_at     timestamptz,
    ADD COLUMN closed_at       timestamptz,
    ADD COLUMN reopen_count    integer NOT NULL DEFAULT 0;
CREATE INDEX cases_state ON cases (state, kind);
CREATE INDEX cases_customer ON cases (customer_id) WHERE customer_id IS NOT NULL;

-- Everything that happened to a case, with who and when; append-only.
CREATE TABLE case_timeline (
    id      bigserial PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES cases (id),
    at      timestamptz NOT NULL DEFAULT now(),
    type    text NOT NULL,
    by      text NOT NULL,
    detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, at, id);

CALL append_only('case_timeline');

-- What the customer was told when the case was taken (policy: how it will be handled, by when).
CREATE TABLE case_acknowledgements (
    id       bigserial PRIMARY KEY,
    case_id  uuid NOT NULL REFERENCES cases (id),
    template text NOT NULL,
    text     text NOT NULL,
    due_at   timestamptz,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_acknowledgements_case ON case_acknowledgements (case_id, id);
