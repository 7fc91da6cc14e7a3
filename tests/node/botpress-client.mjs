// Manages a bot through botyard's Botpress dialect with the official @botpress/client:
//   node botpress-client.mjs <server url> <token> <workspace id>
// Prints one JSON line with what it saw; exits 1 on any failure.
import { Client, isApiError } from '@botpress/client'

const [, , server, token, workspaceId] = process.argv
const client = new Client({ apiUrl: server, token, workspaceId })

const { bot } = await client.createBot({ name: 'from-sdk', tags: { team: 'sdk' } })
const updated = await client.updateBot({
  id: bot.id,
  configuration: { schema: { type: 'object', properties: { n: { type: 'integer' } } }, data: { n: 1 } },
  events: { ping: { schema: { type: 'object' } } },
})
const { bots } = await client.listBots({ tags: { team: 'sdk' } })
let invalid = null
try {
  await client.updateBot({ id: bot.id, configuration: { data: { n: 'one' } } })
} catch (err) {
  invalid = isApiError(err) ? err.type : String(err)
}
const rotated = await client.rotateBotSigningSecrets({ id: bot.id })
await client.deleteBot({ id: bot.id })
let missing = null
try {
  await client.getBot({ id: bot.id })
} catch (err) {
  missing = isApiError(err) ? err.type : String(err)
}
console.log(
  JSON.stringify({
    created: bot.name,
    secret: typeof bot.signingSecret === 'string',
    events: Object.keys(updated.bot.events),
    listed: bots.map((b) => b.name),
    invalid,
    rotated: typeof rotated.newSigningSecret === 'string',
    missing,
  }),
)
