-- The runtime: commands and folders, end users and chats with their messages, properties,
-- pending replies, error logs and monthly iteration counters.

CREATE TABLE command_folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX command_folders_by_bot ON command_folders (bot_id, id);

CREATE TABLE commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    command TEXT NOT NULL,
    help TEXT NOT NULL,
    answer TEXT NOT NULL,
    keyboard TEXT NOT NULL,
    need_reply BIGINT NOT NULL,
    auto_retry_time BIGINT,
    last_auto_retry_at BIGINT,
    folder_id BIGINT REFERENCES command_folders(id) ON DELETE SET NULL,
    user_group TEXT NOT NULL,
    code TEXT NOT NULL,
    created_via_csv_import BIGINT NOT NULL,
    last_csv_import_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, command)
);

CREATE TABLE command_aliases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    command_id BIGINT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, alias)
);
CREATE INDEX command_aliases_by_command ON command_aliases (command_id);

CREATE TABLE bot_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    username TEXT,
    picture_url TEXT,
    profile TEXT,
    key_digest TEXT UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, channel, external_id)
);

CREATE TABLE bot_user_groups (
    user_id BIGINT NOT NULL REFERENCES bot_users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

CREATE TABLE chats (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    title TEXT,
    owner_user_id BIGINT REFERENCES bot_users(id) ON DELETE SET NULL,
    blocked BIGINT NOT NULL,
    bot_blocked BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, channel, external_id)
);
CREATE INDEX chats_by_bot ON chats (bot_id, id);

CREATE TABLE chat_participants (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES bot_users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_participants_by_user ON chat_participants (user_id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES bot_users(id) ON DELETE SET NULL,
    payload TEXT NOT NULL,
    metadata TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_by_chat ON messages (chat_id, id);

CREATE TABLE properties (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (bot_id, scope, owner_id, name)
);

CREATE TABLE pending_replies (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES bot_users(id) ON DELETE CASCADE,
    command_id BIGINT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    options TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, chat_id, user_id)
);

CREATE TABLE error_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    command TEXT,
    title TEXT NOT NULL,
    stack_trace TEXT NOT NULL,
    chat_id BIGINT,
    user_id BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX error_logs_by_bot ON error_logs (bot_id, id);

CREATE TABLE iteration_usage (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    iterations BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, month)
);
