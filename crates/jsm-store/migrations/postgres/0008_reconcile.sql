-- Reconcile state (issue 8): where each source's last read ended, the lock that keeps two reconcile runs of one
-- site apart, and what the engine learned about a site that no API shows (desks open to every customer).
-- Numbered 0008 (the issue) rather than 0002 so a migration another branch adds next cannot take the same version.

CREATE TABLE watermarks (
    source      TEXT    NOT NULL PRIMARY KEY,
    watermark   TEXT,
    full_at     BIGINT,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE run_locks (
    site        TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    acquired_at BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);

CREATE TABLE site_facts (
    site        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    fact_key    TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    learned_at  BIGINT  NOT NULL,
    PRIMARY KEY (site, kind, fact_key)
);
