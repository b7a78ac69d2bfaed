-- Courses, sessions, enrolments and attendance, assessments (certificates), and the daily
-- compliance check's flags. Staff come only from the staff projection (0001, staff.upserted).

CREATE TABLE courses (
    code            text PRIMARY KEY,
    title           text NOT NULL,
    mandatory_for   text[] NOT NULL DEFAULT '{}',  -- staff roles that must hold a valid certificate
    validity_months integer NOT NULL CHECK (validity_months > 0),
    pass_mark       numeric(5, 2) NOT NULL CHECK (pass_mark BETWEEN 0 AND 100),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX courses_mandatory_for ON courses USING gin (mandatory_for);

CREATE TABLE training_sessions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    course_code text NOT NULL REFERENCES courses (code),
    date        date NOT NULL,
    trainer     text NOT NULL,
    capacity    integer NOT NULL CHECK (capacity > 0),
    location    text,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX training_sessions_course ON training_sessions (course_code, date);

-- attended is null until the trainer records attendance
CREATE TABLE enrolments (
    session_id  bigint NOT NULL REFERENCES training_sessions (id),
    staff_id    text NOT NULL REFERENCES staff (staff_id),
    enrolled_by text NOT NULL,
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    attended    boolean,
    attendance_by text,
    attendance_at timestamptz,
    PRIMARY KEY (session_id, staff_id)
);
CREATE INDEX enrolments_staff ON enrolments (staff_id);

-- Every assessment is kept; a passed one is a certificate valid until expires_on (exclusive,
-- Asia/Shanghai date). event_id is the training.completed event written with it.
CREATE TABLE assessments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id    text NOT NULL REFERENCES staff (staff_id),
    course_code text NOT NULL REFERENCES courses (code),
    session_id  bigint REFERENCES training_sessions (id),
    score       numeric(5, 2) NOT NULL CHECK (score BETWEEN 0 AND 100),
    pass_mark   numeric(5, 2) NOT NULL,
    passed      boolean NOT NULL,
    assessed_at timestamptz NOT NULL,
    expires_on  date,
    event_id    text NOT NULL UNIQUE,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (passed = (expires_on IS NOT NULL))
);
CREATE INDEX assessments_certificates
    ON assessments (staff_id, course_code, expires_on DESC) WHERE passed;
CALL append_only('assessments');

-- The daily check: one row per Asia/Shanghai day it ran.
CREATE TABLE compliance_checks (
    day     date PRIMARY KEY,
    ran_at  timestamptz NOT NULL DEFAULT now(),
    flagged integer NOT NULL DEFAULT 0
);

-- A staff member found overdue on a mandatory course, once per staff, course and expiry
-- (expired_on is null for "never passed").
CREATE TABLE compliance_flags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id    text NOT NULL REFERENCES staff (staff_id),
    department  text,
    course_code text NOT NULL REFERENCES courses (code),
    reason      text NOT NULL CHECK (reason IN ('never_passed', 'expired')),
    expired_on  date,
    check_day   date NOT NULL,
    flagged_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (staff_id, course_code, expired_on)
);
CREATE INDEX compliance_flags_department ON compliance_flags (department, flagged_at DESC);
