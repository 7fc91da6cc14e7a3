// Calls botyard's Botpress runtime API as a bot does, with the official @botpress/client:
//   node bp-runtime.mjs <server url> <token> <bot id>
// users, conversations, participants, messages and states, with tags and get-or-create, and the
// typed errors. Prints one JSON line with what it saw ({error: type} when the first call fails).
import { Client, isApiError } from '@botpress/client'

const [, , server, token, botId] = process.argv
const client = new Client({ apiUrl: server, token, botId })
const typed = async (call) => {
  try {
    await call()
    return 'no error'
  } catch (e) {
    return isApiError(e) ? e.type : String(e)
  }
}

async function main() {
  const first = await client.getOrCreateUser({ tags: { email: 'ann@example.com' }, name: 'Ann' })
  const again = await client.getOrCreateUser({ tags: { email: 'ann@example.com' }, name: 'Ann again' })
  const { conversation } = await client.createConversation({ channel: 'channel', tags: { topic: 'orders' } })
  await client.addParticipant({ id: conversation.id, userId: first.user.id })
  const { participants } = await client.listParticipants({ id: conversation.id })
  const { message } = await client.createMessage({
    conversationId: conversation.id, userId: botId, type: 'text', payload: { text: 'hello from the bot' }, tags: { kind: 'greeting' },
  })
  const gotten = await client.getOrCreateMessage({
    conversationId: conversation.id, userId: botId, type: 'text', payload: { text: 'not sent twice' }, tags: { kind: 'greeting' },
    discriminateByTags: ['kind'],
  })
  const { messages } = await client.listMessages({ conversationId: conversation.id })
  const set = await client.setState({ type: 'conversation', id: conversation.id, name: 'cart', payload: { items: 1 } })
  const patched = await client.patchState({ type: 'conversation', id: conversation.id, name: 'cart', payload: { total: 5 } })
  const kept = await client.getOrSetState({ type: 'conversation', id: conversation.id, name: 'cart', payload: { items: 99 } })
  await client.setState({ type: 'user', id: first.user.id, name: 'seen', payload: { n: 1 }, expiry: 1 })
  await new Promise((resolve) => setTimeout(resolve, 20))
  console.log(
    JSON.stringify({
      sameUser: first.user.id === again.user.id,
      userTags: again.user.tags,
      conversationTags: (await client.getConversation({ id: conversation.id })).conversation.tags,
      participants: participants.map((p) => p.id === first.user.id),
      messageTags: message.tags,
      direction: message.direction,
      sameMessage: gotten.message.id === message.id,
      listed: messages.map((m) => m.payload.text),
      state: [set.state.payload, patched.state.payload, kept.state.payload],
      expired: await typed(() => client.getState({ type: 'user', id: first.user.id, name: 'seen' })),
      missingConversation: await typed(() => client.getConversation({ id: 'conv_nope' })),
      badTag: await typed(() => client.createUser({ tags: { n: 5 } })),
    }),
  )
}

// A refused token fails the first call: print its type.
await main().catch((e) => console.log(JSON.stringify({ error: isApiError(e) ? e.type : String(e) })))
