-- Bots.Business keeps commands whose names or aliases repeat (the same command in two folders,
-- `/start` as a command and as another's alias), and its git exports carry them: imports keep them
-- too, and routing decides which one runs. The admin APIs still refuse a name that is taken.
-- SQLite cannot drop a table's UNIQUE constraint, so the commands table is rebuilt; the tables
-- that point at it are set aside first so that dropping it cascades into nothing.
CREATE TABLE aliases_kept AS SELECT * FROM command_aliases;
CREATE TABLE pending_replies_kept AS SELECT * FROM pending_replies;
DROP TABLE command_aliases;
DROP TABLE pending_replies;

CREATE TABLE commands_rebuilt (
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
    updated_at BIGINT NOT NULL
);
INSERT INTO commands_rebuilt SELECT id, bot_id, command, help, answer, keyboard, need_reply,
    auto_retry_time, last_auto_retry_at, folder_id, user_group, code, created_via_csv_import,
    last_csv_import_at, created_at, updated_at FROM commands;
DROP TABLE commands;
ALTER TABLE commands_rebuilt RENAME TO commands;
CREATE INDEX commands_by_name ON commands (bot_id, command);

CREATE TABLE command_aliases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    command_id BIGINT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    alias TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO command_aliases SELECT id, bot_id, command_id, alias, created_at, updated_at FROM aliases_kept;
DROP TABLE aliases_kept;
CREATE INDEX command_aliases_by_command ON command_aliases (command_id);
CREATE INDEX command_aliases_by_name ON command_aliases (bot_id, alias);

CREATE TABLE pending_replies (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES bot_users(id) ON DELETE CASCADE,
    command_id BIGINT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
    options TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (bot_id, chat_id, user_id)
);
INSERT INTO pending_replies SELECT bot_id, chat_id, user_id, command_id, options, created_at FROM pending_replies_kept;
DROP TABLE pending_replies_kept;
