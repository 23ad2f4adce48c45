-- Kind-specific facts about a credential that are not secrets: an OAuth grant's client, consent date and last
-- rotation; the Atlassian id of a matched API token; what the last check found. JSON text, written by
-- jsm-lifecycle from a typed struct that has no secret field. One row per credential, removed with it.
CREATE TABLE credential_facts (
    name       TEXT   NOT NULL PRIMARY KEY,
    facts      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);
