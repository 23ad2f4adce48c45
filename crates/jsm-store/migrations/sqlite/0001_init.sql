-- jsmctl state, SQLite. Times are unix milliseconds (BIGINT); JSON is kept as the exact text it was written as,
-- so a hash computed at write time can be recomputed from what is stored. No column holds a secret.

CREATE TABLE plans (
    id          TEXT    NOT NULL PRIMARY KEY,
    hash        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    requester   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    status      TEXT    NOT NULL
        CHECK (status IN ('awaiting_approval', 'ready', 'applying', 'applied', 'failed', 'rejected')),
    body        TEXT    NOT NULL
);
CREATE INDEX plans_by_created ON plans (created_at);
CREATE INDEX plans_by_status ON plans (status, created_at);

CREATE TABLE approvals (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    plan_id     TEXT    NOT NULL REFERENCES plans (id),
    plan_hash   TEXT    NOT NULL,
    approver    TEXT    NOT NULL,
    approved_at BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX approvals_by_plan ON approvals (plan_id, plan_hash);

CREATE TABLE rejections (
    plan_id     TEXT    NOT NULL PRIMARY KEY REFERENCES plans (id),
    rejected_by TEXT    NOT NULL,
    rejected_at BIGINT  NOT NULL,
    reason      TEXT
);

CREATE TABLE journal (
    plan_id     TEXT    NOT NULL REFERENCES plans (id),
    item_key    TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'done', 'failed', 'quarantined')),
    attempts    BIGINT  NOT NULL CHECK (attempts >= 0),
    outcome     TEXT,
    output      TEXT,
    error       TEXT,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (plan_id, item_key)
);
CREATE INDEX journal_by_state ON journal (state);

-- Append-only and hash-chained; audit_head holds the last (seq, hash) so a deleted tail is detectable.
CREATE TABLE audit_log (
    seq         INTEGER NOT NULL PRIMARY KEY,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    occurred_at BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    plan_id     TEXT,
    item_key    TEXT,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    request_id  TEXT,
    detail      TEXT    NOT NULL
);

CREATE TABLE audit_head (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq         BIGINT  NOT NULL,
    hash        TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE links (
    source      TEXT    NOT NULL,
    source_id   TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    scim_id     TEXT,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (source, source_id)
);
CREATE INDEX links_by_account ON links (account_id);

-- Metadata only: secret_ref names where the secret lives (an environment variable or a file), never the secret.
CREATE TABLE credentials (
    name             TEXT   NOT NULL PRIMARY KEY,
    kind             TEXT   NOT NULL,
    owner            TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT,
    last_used_at     BIGINT,
    last_verified_at BIGINT,
    secret_ref       TEXT
);
