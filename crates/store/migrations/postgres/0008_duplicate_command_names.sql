-- Bots.Business keeps commands whose names or aliases repeat (the same command in two folders,
-- `/start` as a command and as another's alias), and its git exports carry them: imports keep them
-- too, and routing decides which one runs. The admin APIs still refuse a name that is taken.
ALTER TABLE commands DROP CONSTRAINT commands_bot_id_command_key;
CREATE INDEX commands_by_name ON commands (bot_id, command);
ALTER TABLE command_aliases DROP CONSTRAINT command_aliases_bot_id_alias_key;
CREATE INDEX command_aliases_by_name ON command_aliases (bot_id, alias);
