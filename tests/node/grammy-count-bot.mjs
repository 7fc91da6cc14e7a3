// The `/count` bot of botyard's Telegram webhook benchmark (crates/bench/src/webhook.rs), written
// with grammY from npm: a per-user counter kept in memory, the reply sent with `sendMessage`.
//
//   node grammy-count-bot.mjs <port> <api root> <token> <secret>
//
// Serves grammY's webhook at http://127.0.0.1:<port>/ (checking X-Telegram-Bot-Api-Secret-Token)
// and calls the Bot API at <api root>/bot<token>/<method>. Prints "listening" once it accepts.
import http from "node:http";
import { Bot, webhookCallback } from "grammy";

const [port, apiRoot, token, secret] = process.argv.slice(2);
const bot = new Bot(token, {
  client: { apiRoot },
  // Known up front, so grammY does not call getMe before the first update.
  botInfo: {
    id: 1,
    is_bot: true,
    first_name: "Bench",
    username: "bench_bot",
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  },
});

const counts = new Map();
bot.command("count", async (ctx) => {
  const n = (counts.get(ctx.from.id) ?? 0) + 1;
  counts.set(ctx.from.id, n);
  await ctx.reply(`n=${n}`);
});

const handle = webhookCallback(bot, "http", { secretToken: secret });
http
  .createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(err);
      if (!res.headersSent) {
        res.writeHead(500);
      }
      res.end();
    });
  })
  .listen(Number(port), "127.0.0.1", () => console.log("listening"));
