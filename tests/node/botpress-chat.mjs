// Talks to a botyard bot with the official @botpress/chat client:
//   node botpress-chat.mjs <server url> <webhook id>
// The bot must answer "/start" with a text, then a message with an inline button whose command
// answers "pressed"; after a quiet 6.5 s it is sent "/start" again. Prints one JSON line with what it saw; exits 1 on any failure.
import { Client } from '@botpress/chat'

const [, , server, webhookId] = process.argv
const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))

const client = await Client.connect({ baseApiUrl: `${server}/chat`, webhookId })
const { conversation } = await client.createConversation({})
const listener = await client.listenConversation({ id: conversation.id })

const botMessages = []
const waiters = []
const streamErrors = []
listener.on('error', (e) => streamErrors.push(String(e)))
listener.on('message_created', (message) => {
  if (message.userId === client.user.id) return
  botMessages.push(message)
  waiters.splice(0).forEach((w) => w())
})
const waitFor = (count) =>
  Promise.race([
    new Promise((resolve) => {
      const check = () => (botMessages.length >= count ? resolve() : waiters.push(check))
      check()
    }),
    timeout(15000, `${count} bot messages`),
  ])

await client.createMessage({ conversationId: conversation.id, payload: { type: 'text', text: '/start' } })
await waitFor(2)
const inline = botMessages[1]
const button = inline.payload.options[0]
await client.createEvent({ conversationId: conversation.id, payload: { type: 'callback', data: button.value, messageId: inline.id } })
await waitFor(3)
// Quiet for longer than the client lets a stream go without data (5 s on Node 20): the server's
// heartbeats keep the same stream alive, and it still carries the next answers.
await new Promise((resolve) => setTimeout(resolve, 6500))
await client.createMessage({ conversationId: conversation.id, payload: { type: 'text', text: '/start' } })
await waitFor(5)

const { messages } = await client.listMessages({ conversationId: conversation.id })
const me = await client.getUser({})
await listener.disconnect()
console.log(
  JSON.stringify({
    user: me.user.id === client.user.id,
    texts: botMessages.map((m) => m.payload.text),
    isBot: botMessages.every((m) => m.isBot === true),
    listed: messages.length,
    streamErrors,
  }),
)
process.exit(0)
