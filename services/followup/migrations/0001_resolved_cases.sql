-- Cases that intake resolved: what follow-up calls will be scheduled from.
CREATE TABLE resolved_cases (
    case_id     text PRIMARY KEY,
    kind        text NOT NULL,
    category    text NOT NULL,
    department  text,
    resolved_by text NOT NULL,
    first_contact boolean NOT NULL,
    resolved_at timestamptz NOT NULL
);
