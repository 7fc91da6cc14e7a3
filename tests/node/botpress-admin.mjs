// Drives botyard's Botpress admin routes beyond bots with the official @botpress/client:
// workspace members, a bot's web chat, analytics, issues, versions and logs.
//   node botpress-admin.mjs <server url> <owner token> <workspace id> <bot id> <webhook id> <other token> <other email>
// The bot answers "/start" and fails on "/boom"; the other account has no role in the workspace
// yet. A user talks to the bot with @botpress/chat first. Prints one JSON line with what it saw
// (answers as they came, errors as their type); exits 1 on any unexpected failure.
import { Client, isApiError } from '@botpress/client'
import { Client as ChatClient } from '@botpress/chat'

const [, , server, token, workspaceId, botRef, webhookId, otherToken, otherEmail] = process.argv
const admin = new Client({ apiUrl: server, token, workspaceId })
const other = new Client({ apiUrl: server, token: otherToken, workspaceId })

// An API error as its type; anything else fails the script.
const failure = async (call) => {
  try {
    const answer = await call()
    return { unexpected: answer }
  } catch (err) {
    if (!isApiError(err)) throw err
    return err.type
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A user talks to the bot: "/start" is answered, "/boom" fails twice (a default answer each time).
const startedAt = new Date(Date.now() - 60_000).toISOString()
const chat = await ChatClient.connect({ baseApiUrl: `${server}/chat`, webhookId })
const { conversation } = await chat.createConversation({})
const botAnswers = async (count) => {
  for (let i = 0; i < 300; i++) {
    const { messages } = await chat.listMessages({ conversationId: conversation.id })
    if (messages.filter((m) => m.userId !== chat.user.id).length >= count) return
    await sleep(50)
  }
  throw new Error(`the bot did not answer ${count} times`)
}
let answers = 0
for (const text of ['/start', '/boom', '/boom']) {
  await chat.createMessage({ conversationId: conversation.id, payload: { type: 'text', text } })
  await botAnswers(++answers)
}

const seen = { chat: { conversationId: conversation.id, userId: chat.user.id } }

// The bot: signing secret (not for viewers) and type.
const { bot } = await admin.getBot({ id: botRef })
const id = bot.id
seen.bot = { secret: typeof bot.signingSecret, type: bot.type }
seen.listedTypes = (await admin.listBots({})).bots.map((b) => b.type)
seen.badType = await failure(() => admin.updateBot({ id, type: 'studio' }))

// Members.
seen.members = {}
const m = seen.members
m.initial = (await admin.listWorkspaceMembers({})).members
m.me = await admin.getWorkspaceMember({})
m.added = await admin.createWorkspaceMember({ email: otherEmail, role: 'viewer' })
m.invited = await admin.createWorkspaceMember({ email: 'carol@example.com', role: 'developer', sendEmail: false })
m.again = await failure(() => admin.createWorkspaceMember({ email: otherEmail, role: 'developer' }))
m.billing = await failure(() => admin.createWorkspaceMember({ email: 'dan@example.com', role: 'billing' }))
const page1 = await admin.listWorkspaceMembers({ pageSize: 2 })
const page2 = await admin.listWorkspaceMembers({ pageSize: 2, nextToken: page1.meta.nextToken })
m.pages = [page1.members.map((x) => x.email), page2.members.map((x) => x.email), page2.meta.nextToken ?? null]
m.otherMe = await other.getWorkspaceMember({})
// As a viewer: no signing secret, no changes.
const viewed = await other.getBot({ id })
seen.viewer = {
  secret: typeof viewed.bot.signingSecret,
  createVersion: await failure(() => other.createBotVersion({ id, name: 'v2' })),
  reRole: await failure(() => other.updateWorkspaceMember({ id: m.me.id, role: 'viewer' })),
  issues: (await other.listBotIssues({ id })).issues.length,
}
m.promoted = await admin.updateWorkspaceMember({ id: m.added.id, role: 'administrator' })
m.invitationReRoled = await admin.updateWorkspaceMember({ id: 'carol@example.com', role: 'viewer' })
m.unchanged = await admin.updateWorkspaceMember({ id: m.added.id })
// An administrator manages no owners.
m.demoteOwner = await failure(() => other.updateWorkspaceMember({ id: m.me.id, role: 'developer' }))
m.unknown = await failure(() => admin.updateWorkspaceMember({ id: '999999', role: 'viewer' }))
m.removedInvitation = await admin.deleteWorkspaceMember({ id: 'carol@example.com' })
m.removed = await admin.deleteWorkspaceMember({ id: m.added.id })
m.removedAgain = await failure(() => admin.deleteWorkspaceMember({ id: m.added.id }))
m.gone = await failure(() => other.getWorkspaceMember({}))
m.final = (await admin.listWorkspaceMembers({})).members.map((x) => x.email)

// The web chat, in each form.
seen.webchat = {}
for (const type of ['sharableUrl', 'fullscreen', 'preconfigured', 'configurable']) {
  seen.webchat[type] = (await admin.getBotWebchat({ id, type })).code
}
seen.webchat.bogus = await failure(() => admin.getBotWebchat({ id, type: 'bogus' }))
seen.webchat.missingBot = await failure(() => admin.getBotWebchat({ id: '00000000-0000-4000-8000-000000000000', type: 'fullscreen' }))

// Analytics: one record per UTC day of the period (the test may straddle midnight: summed).
const endDate = new Date(Date.now() + 60_000).toISOString()
const { records } = await admin.getBotAnalytics({ id, startDate: startedAt, endDate })
const sum = (key) => records.reduce((n, r) => n + r[key], 0)
seen.analytics = {
  days: records.length,
  fields: Object.keys(records[0]),
  llm: records[0].llm,
  totals: Object.fromEntries(
    ['newUsers', 'returningUsers', 'sessions', 'messages', 'userMessages', 'botMessages', 'events'].map((k) => [k, sum(k)]),
  ),
  dates: (await admin.getBotAnalytics({ id, startDate: '2024-02-28', endDate: '2024-03-01' })).records.map((r) => [
    r.startDateTimeUtc,
    r.endDateTimeUtc,
    r.userMessages,
  ]),
  backwards: await failure(() => admin.getBotAnalytics({ id, startDate: endDate, endDate: startedAt })),
  notADate: await failure(() => admin.getBotAnalytics({ id, startDate: 'yesterday', endDate })),
  missingBot: await failure(() => admin.getBotAnalytics({ id: 'nope', startDate: startedAt, endDate })),
}

// Logs, by the Chat API's conversation and user ids.
const logs = await admin.getBotLogs({ id, timeStart: startedAt, conversationId: conversation.id, userId: chat.user.id })
seen.logs = {
  lines: logs.logs,
  sameIds: logs.logs.every((l) => l.conversationId === conversation.id && l.userId === chat.user.id),
  otherConversation: (await admin.getBotLogs({ id, timeStart: startedAt, conversationId: 'nope' })).logs.length,
  otherUser: (await admin.getBotLogs({ id, timeStart: startedAt, userId: 'nope' })).logs.length,
}

// Issues: the error log grouped by command and title.
const { issues } = await admin.listBotIssues({ id })
const issueId = issues[0].id
const events = (await admin.listBotIssueEvents({ id, issueId })).issueEvents
seen.issues = {
  listed: issues,
  got: (await admin.getBotIssue({ id, issueId })).issue,
  events,
  eventIds: events.every((e) => e.data.conversationId.raw === conversation.id && e.data.userId.raw === chat.user.id),
  unknown: await failure(() => admin.getBotIssue({ id, issueId: '999999' })),
  deleted: await admin.deleteBotIssue({ id, issueId }),
  afterDelete: await failure(() => admin.getBotIssue({ id, issueId })),
  left: (await admin.listBotIssues({ id })).issues.length,
  logsLeft: (await admin.getBotLogs({ id, timeStart: startedAt })).logs.length,
}

// Versions: the one botyard keeps.
seen.versions = {
  listed: (await admin.listBotVersions({ id })).versions,
  url: (await admin.getBotVersion({ id, versionId: 'current' })).url,
  unknown: await failure(() => admin.getBotVersion({ id, versionId: 'v1' })),
  create: await failure(() => admin.createBotVersion({ id, name: 'v2', description: 'next' })),
  deployed: await admin.deployBotVersion({ id, versionId: 'current' }),
  deployUnknown: await failure(() => admin.deployBotVersion({ id, versionId: 'v1' })),
  missingBot: await failure(() => admin.listBotVersions({ id: '00000000-0000-4000-8000-000000000000' })),
}

console.log(JSON.stringify(seen))
process.exit(0)
