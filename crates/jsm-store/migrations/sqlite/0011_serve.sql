-- jsmctl serve, SQLite (one worker; the same tables as on PostgreSQL): the job queue, worker heartbeats, operators
-- (token hashes only), page sessions (cookie hashes only) and the webhook deliveries already seen. Times are unix milliseconds.

-- A job is leased by one worker at a time: `lease` is the claim's fencing token, `lease_until` the instant after
-- which any worker may take the job over. Jobs with the same `lock_key` (a site) never run at once: the unique
-- partial index makes a second claim of the key fail, whatever the race.
CREATE TABLE jobs (
    id           INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    spec         TEXT    NOT NULL,
    lock_key     TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    attempts     BIGINT  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts BIGINT  NOT NULL CHECK (max_attempts >= 1),
    run_at       BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    worker       TEXT,
    lease        TEXT,
    lease_until  BIGINT,
    result       TEXT,
    error        TEXT
);
CREATE UNIQUE INDEX jobs_one_running_per_lock ON jobs (lock_key) WHERE state = 'running';
CREATE INDEX jobs_by_state ON jobs (state, run_at, id);

CREATE TABLE workers (
    id          TEXT    NOT NULL PRIMARY KEY,
    started_at  BIGINT  NOT NULL,
    last_seen   BIGINT  NOT NULL,
    info        TEXT    NOT NULL
);

-- An operator's bearer token is shown once; only its SHA-256 is kept.
CREATE TABLE operators (
    name         TEXT    NOT NULL PRIMARY KEY,
    token_sha256 TEXT    NOT NULL UNIQUE,
    created_at   BIGINT  NOT NULL,
    created_by   TEXT    NOT NULL,
    disabled_at  BIGINT
);

-- A page session: the cookie's SHA-256, never the cookie.
CREATE TABLE sessions (
    id_sha256   TEXT    NOT NULL PRIMARY KEY,
    operator    TEXT    NOT NULL REFERENCES operators (name),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Every webhook delivery accepted, by X-Atlassian-Webhook-Identifier (stable across Atlassian's retries).
CREATE TABLE webhook_deliveries (
    identifier  TEXT    NOT NULL PRIMARY KEY,
    received_at BIGINT  NOT NULL,
    event       TEXT    NOT NULL,
    account_id  TEXT,
    job_id      BIGINT
);

-- Every schedule firing, by schedule name and due minute: the scheduler of every worker tries, one queues.
CREATE TABLE schedule_fires (
    name        TEXT    NOT NULL,
    due_at      BIGINT  NOT NULL,
    job_id      BIGINT  NOT NULL,
    PRIMARY KEY (name, due_at)
);
