-- Tags of Botpress users, conversations and messages (the runtime API's `tags`), by the entity's
-- Chat API id; `getOrCreate…` finds entities by them.
CREATE TABLE runtime_tags (
    bot_id BIGINT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bot_id, entity, entity_id, tag)
);
CREATE INDEX runtime_tags_by_value ON runtime_tags (bot_id, entity, tag, value);
