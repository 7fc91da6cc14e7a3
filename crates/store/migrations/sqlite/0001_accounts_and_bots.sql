-- Accounts, workspaces, credentials and bots. Timestamps are milliseconds since the epoch,
-- booleans are 0/1 integers, documents are JSON text: the same values on both backends.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    api_key_hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    personal_of BIGINT REFERENCES users(id) ON DELETE CASCADE,
    plan TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members (user_id);

CREATE TABLE workspace_invitations (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, email)
);
CREATE INDEX workspace_invitations_by_email ON workspace_invitations (email);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    client TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE TABLE bots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    dev BIGINT NOT NULL,
    status TEXT NOT NULL,
    run_state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deployed_at BIGINT,
    created_by BIGINT,
    signing_secret TEXT NOT NULL,
    web_channel_id TEXT NOT NULL UNIQUE,
    telegram_token TEXT,
    csv_url TEXT,
    git_remote TEXT,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX bots_by_workspace_created ON bots (workspace_id, dev, created_at, id);
CREATE INDEX bots_by_workspace_updated ON bots (workspace_id, dev, updated_at, id);

CREATE TABLE bot_tags (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bot_id, key)
);
CREATE INDEX bot_tags_by_pair ON bot_tags (key, value);
