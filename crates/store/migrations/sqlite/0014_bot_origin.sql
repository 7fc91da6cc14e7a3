-- The dialect that created a bot (`bots_business`, `botpress`, `koreai`): the dashboard shows a
-- bot's status in that dialect's words.
ALTER TABLE bots ADD COLUMN origin TEXT NOT NULL DEFAULT 'bots_business';
