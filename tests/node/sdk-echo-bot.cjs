// A Botpress bot written with @botpress/sdk, in plain JavaScript: it echoes each text message,
// counting the messages of the conversation in a conversation state; "throw" makes its handler
// throw and "sleep" makes it outlast the server's time limit. Run it with
//   node sdk-echo-bot.cjs <port>
// (BP_API_URL, BP_TOKEN point its client at the server), or bundle it (bundle-bot.mjs) and
// deploy the bundle as the bot's code.
const sdk = require('@botpress/sdk')

const bot = new sdk.Bot({
  // Run when the bot is deployed: it leaves a bot state the test reads.
  register: async ({ client, ctx }) => {
    await client.setState({ type: 'bot', id: ctx.botId, name: 'registered', payload: { at: Date.now() } })
  },
  actions: {
    double: async ({ input }) => ({ n: input.n * 2 }),
  },
  plugins: {},
})

bot.on.message('*', async ({ message, client, ctx }) => {
  const text = message.payload.text
  if (text === 'throw') {
    throw new Error('the echo bot was asked to throw')
  }
  if (text === 'sleep') {
    await new Promise((resolve) => setTimeout(resolve, 10000))
  }
  const { state } = await client.getOrSetState({
    type: 'conversation',
    id: message.conversationId,
    name: 'counter',
    payload: { count: 0 },
  })
  const count = state.payload.count + 1
  await client.setState({ type: 'conversation', id: message.conversationId, name: 'counter', payload: { count } })
  await client.createMessage({
    conversationId: message.conversationId,
    userId: ctx.botId,
    tags: {},
    type: 'text',
    payload: { text: `echo ${count}: ${text}` },
  })
})

module.exports = { default: bot }

if (require.main === module) {
  bot.start(Number(process.argv[2]))
}
