-- The bot's Telegram username, as getMe gave it when the bot last started with its token:
-- Bots.Business scripts see it as `bot.name` (links like t.me/<bot.name>?start=…).
ALTER TABLE bots ADD COLUMN telegram_username TEXT;
