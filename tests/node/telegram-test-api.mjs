// The public fake Telegram server `telegram-test-api` against botyard: it prints its API URL,
// waits for "go" on stdin (botyard's bot polls it by then), then plays a user: /start, then a
// press of the inline button the bot answered with. Prints what the user received, as JSON.
import { createInterface } from 'node:readline';
import TelegramServer from 'telegram-test-api';

const [token, port] = process.argv.slice(2);
const server = new TelegramServer({ port: Number(port), host: '127.0.0.1', storeTimeout: 60 });
await server.start();
console.log(JSON.stringify({ ready: server.config.apiURL }));

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'go') break;
}

try {
  const client = server.getClient(token, { timeout: 15000 });
  await client.sendMessage(client.makeMessage('/start'));
  const first = (await client.getUpdates()).result;
  const greeting = first[0].message;
  const button = greeting.reply_markup.inline_keyboard[0][0];
  await client.sendCallback(client.makeCallbackQuery(button.callback_data, { message: { message_id: greeting.message_id } }));
  const second = (await client.getUpdates()).result;
  console.log(JSON.stringify({
    greeting: greeting.text,
    button: button.text,
    answer: second.map((u) => u.message.text),
  }));
} finally {
  await server.stop();
  process.exit(0);
}
