-- Liveness of the service's long-running processes (relay, consumer, scheduler): each one keeps
-- its row fresh while it runs and is connected (shared/heartbeat.py). Times are the database
-- server's: liveness is no business fact, and one clock for the writer and every reader, on any
-- machine, is what makes an age mean something.
CREATE TABLE process_heartbeats (
    process    text NOT NULL CHECK (process IN ('relay', 'consumer', 'scheduler')),
    host       text NOT NULL,
    pid        integer NOT NULL,
    state      text NOT NULL,     -- active, standby, consuming
    started_at timestamptz NOT NULL,
    beat_at    timestamptz NOT NULL,
    PRIMARY KEY (process, host, pid)
);
