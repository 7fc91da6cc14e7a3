-- Jobs (one durable queue for imports, exports and, later, broadcasts and scheduled runs), files
-- (uploads and export archives), Kore.ai API apps, and the bot content that imports bring:
-- Kore.ai components, libraries and admin panels.

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    workspace_id TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    -- No foreign key: an import creates its bot, and a job outlives a deleted bot.
    bot_id BIGINT,
    created_by BIGINT,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    details TEXT NOT NULL,
    error TEXT,
    control TEXT,
    attempts BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_until BIGINT,
    worker TEXT,
    enqueued_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_ready ON jobs (status, run_at, id);
CREATE INDEX jobs_by_bot ON jobs (bot_id, kind, id);

CREATE TABLE files (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    extension TEXT NOT NULL,
    context TEXT NOT NULL,
    size BIGINT NOT NULL,
    hash TEXT NOT NULL,
    content BLOB NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX files_by_expiry ON files (expires_at);

CREATE TABLE api_apps (
    client_id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    scopes TEXT NOT NULL,
    require_jti BIGINT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_apps_by_workspace ON api_apps (workspace_id);

CREATE TABLE bot_components (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    position BIGINT NOT NULL,
    ref_id TEXT,
    name TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX bot_components_by_bot ON bot_components (bot_id, kind, position);

CREATE TABLE bot_libs (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    store_id TEXT,
    code TEXT NOT NULL,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, name)
);

CREATE TABLE admin_panels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, name)
);
