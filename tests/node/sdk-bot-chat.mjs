// Talks to a Botpress SDK bot (sdk-echo-bot.cjs, at its url or deployed as a bundle) through
// botyard's web channel with the official @botpress/chat client:
//   node sdk-bot-chat.mjs <server url> <webhook id>
// Says "hello" and "again" and waits for the echoes (the second one counts 2: the bot keeps a
// conversation state). Prints one JSON line with what it saw; exits 1 on any failure.
import { Client } from '@botpress/chat'

const [, , server, webhookId] = process.argv
const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))

const client = await Client.connect({ baseApiUrl: `${server}/chat`, webhookId })
const { conversation } = await client.createConversation({})
const listener = await client.listenConversation({ id: conversation.id })
const replies = []
const waiters = []
listener.on('message_created', (message) => {
  if (message.userId === client.user.id) return
  replies.push(message)
  waiters.splice(0).forEach((w) => w())
})
const waitFor = (count) =>
  Promise.race([
    new Promise((resolve) => {
      const check = () => (replies.length >= count ? resolve() : waiters.push(check))
      check()
    }),
    timeout(20000, `${count} replies`),
  ])

await client.createMessage({ conversationId: conversation.id, payload: { type: 'text', text: 'hello' } })
await waitFor(1)
await client.createMessage({ conversationId: conversation.id, payload: { type: 'text', text: 'again' } })
await waitFor(2)
await listener.disconnect()
console.log(JSON.stringify({ conversation: conversation.id, texts: replies.map((m) => m.payload.text) }))
process.exit(0)
