// Bots: the list, and one bot's pages (overview, chats, error log, broadcasts, Botpress
// configuration). The command editor is in commands.js.
import { h, fill, field, api, attempt, toast, every, heading, table, fmtTime, session } from './ui.js'
import { schemaForm } from './schema_form.js'

const ORIGINS = { bots_business: 'Bots.Business', botpress: 'Botpress', koreai: 'Kore.ai' }

/** The bot's status in the words of the dialect that made it. */
export function statusBadge(bot) {
  const running = bot.status === 'works'
  return h('span', { class: `badge ${running ? 'on' : 'off'}`, title: `${ORIGINS[bot.origin] || ''} status` },
    bot.origin_status)
}

export async function botsPage(main) {
  const list = h('div', { 'aria-live': 'polite' })
  const name = h('input', { name: 'name', required: true, maxlength: '100', autocomplete: 'off' })
  const token = h('input', { name: 'token', autocomplete: 'off', placeholder: '123456:ABC…' })
  const create = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      const body = { name: name.value.trim(), workspace_id: session.workspace }
      if (token.value.trim()) body.token = token.value.trim()
      const bot = await attempt(() => api('POST', '/v2/bots', body))
      if (bot) location.hash = `#/bots/${bot.id}/commands`
    },
  }, h('h2', {}, 'New bot'), field('Name', name),
  field('Telegram token', token, 'Optional: without one the bot talks on the web chat and the Chat API.'),
  h('button', { class: 'primary', type: 'submit' }, 'Create bot'))
  fill(main, heading('Bots'), list, create)
  const bots = (await api('GET', '/v2/bots')).filter((b) => b.workspace_id === session.workspace)
  fill(list, table(['Bot', 'Made with', 'Status', 'Updated'], bots.map((b) => [
    h('a', { href: `#/bots/${b.id}` }, b.name),
    ORIGINS[b.origin] || b.origin,
    statusBadge(b),
    fmtTime(b.updated_at),
  ]), 'No bots in this workspace yet: create one below, or import one on the Jobs page.'))
}

/** The tabs of a bot's pages. */
export function botHeader(bot, current) {
  const tabs = [
    ['overview', 'Overview', `#/bots/${bot.id}`],
    ['commands', 'Commands', `#/bots/${bot.id}/commands`],
    ['chats', 'Chats', `#/bots/${bot.id}/chats`],
    ['errors', 'Error log', `#/bots/${bot.id}/errors`],
    ['broadcasts', 'Broadcasts', `#/bots/${bot.id}/broadcasts`],
    ['config', 'Configuration', `#/bots/${bot.id}/config`],
  ]
  return h('div', { class: 'bot-header' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Bots'), ' / '),
    h('div', { class: 'title-row' }, heading(bot.name), statusBadge(bot)),
    h('nav', { class: 'tabs', 'aria-label': 'Bot' }, tabs.map(([key, text, href]) =>
      h('a', { href, 'aria-current': key === current ? 'page' : null }, text))))
}

export async function botPage(main, id, tab) {
  const bot = await api('GET', `/v2/bots/${id}`)
  const body = h('section', { class: 'tab-body' })
  fill(main, botHeader(bot, tab), body)
  const pages = { overview, chats, errors, broadcasts, config }
  if (!pages[tab]) {
    fill(body, h('p', {}, 'No such page.'))
    return
  }
  await pages[tab](body, bot)
}

async function overview(body, bot) {
  const running = bot.status === 'works'
  const toggle = h('button', {
    class: running ? '' : 'primary',
    onclick: async () => {
      const changed = await attempt(() => api('POST', `/v2/bots/${bot.id}/status`,
        { status: running ? 'start_stopping' : 'start_launch' }))
      if (changed) { toast(running ? 'Bot stopped' : 'Bot started'); botPage(body.parentElement, bot.id, 'overview') }
    },
  }, running ? 'Stop bot' : 'Start bot')
  const token = h('input', { type: 'password', value: bot.token || '', autocomplete: 'off', placeholder: '123456:ABC…' })
  const tokenForm = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault()
      if (await attempt(() => api('PUT', `/v2/bots/${bot.id}`, { token: token.value.trim() }))) toast('Token saved')
    },
  }, field('Telegram token', token, 'From @BotFather. Telegram checks it (getMe) when the bot starts; a refused token stops the bot with an error log entry. Empty: no Telegram channel.'),
  h('button', { type: 'submit' }, 'Save token'))
  const chatUrl = `${location.origin}/chat/${bot.web_channel_id}`
  const csv = h('input', { type: 'file', accept: '.csv,text/csv' })
  const csvForm = h('form', {
    class: 'inline-form',
    onsubmit: async (e) => {
      e.preventDefault()
      if (!csv.files[0]) return toast('Choose a CSV file first', 'error')
      const form = new FormData()
      form.append('file', csv.files[0])
      if (await attempt(() => api('POST', `/v2/bots/${bot.id}/csv_import_tasks`, form))) location.hash = '#/jobs'
    },
  }, field('Import commands from a Bots.Business CSV', csv), h('button', { type: 'submit' }, 'Import CSV'))
  fill(body,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Made with'), h('dd', {}, ORIGINS[bot.origin] || bot.origin),
      h('dt', {}, 'Status'), h('dd', {}, statusBadge(bot), ' ', toggle),
      h('dt', {}, 'Web chat'), h('dd', {}, h('a', { href: chatUrl, target: '_blank', rel: 'noopener' }, chatUrl)),
      h('dt', {}, 'Bot id'), h('dd', {}, h('code', {}, `${bot.id} · ${bot.uid}`))),
    tokenForm, bot.origin === 'bots_business' ? csvForm : null,
    h('div', { class: 'actions' },
      h('button', {
        onclick: async () => {
          if (await attempt(() => api('POST', `/v1/admin/bots/${bot.uid}/export`, {}))) location.hash = '#/jobs'
        },
      }, 'Export archive'),
      h('button', {
        class: 'danger',
        onclick: async () => {
          if (!confirm(`Delete ${bot.name} with its commands, chats and properties?`)) return
          if (await attempt(() => api('DELETE', `/v2/bots/${bot.id}`))) { toast(`Deleted ${bot.name}`); location.hash = '#/' }
        },
      }, 'Delete bot')))
}

async function chats(body, bot) {
  const [list, properties] = await Promise.all([
    api('GET', `/v2/bots/${bot.id}/chats`),
    api('GET', `/v2/bots/${bot.id}/properties`),
  ])
  const detail = h('div', { class: 'card', 'aria-live': 'polite' }, h('p', {}, 'Choose a chat to see its properties.'))
  const showChat = (chat) => {
    const own = properties.filter((p) => p.chat_id === chat.id || (p.scope === 'bot'))
    fill(detail, h('h2', {}, `Chat ${chat.title || chat.chatid}`),
      table(['Property', 'Scope', 'Value'], own.map((p) =>
        [p.name, p.scope, h('code', {}, JSON.stringify(p.value))]), 'This chat has no properties.'))
  }
  fill(body, table(['Chat', 'Channel', 'Type', 'Blocked', 'Since'], list.map((c) => [
    h('button', { class: 'link', onclick: () => showChat(c) }, c.title || c.chatid),
    c.channel, c.chat_type, c.blocked ? 'yes' : 'no', fmtTime(c.created_at),
  ]), 'No chats yet: talk to the bot in the Commands page\'s try-it panel.'),
  h('h2', {}, 'User properties'),
  table(['Property', 'User', 'Value'], properties.filter((p) => p.scope === 'user').map((p) =>
    [p.name, String(p.user_id), h('code', {}, JSON.stringify(p.value))]), 'No user properties.'),
  detail)
}

/** One error log entry, as the log and the command editor show it. */
export function errorEntry(entry) {
  return h('article', { class: 'error-entry' },
    h('header', {}, h('strong', {}, entry.title), ' ',
      h('span', { class: 'muted' }, `${entry.scenario.bot_command.command || '(no command)'} · ${fmtTime(entry.created_at)}`)),
    entry.stack_trace ? h('pre', {}, entry.stack_trace) : null)
}

async function errors(body, bot) {
  const list = h('div', { 'aria-live': 'polite' })
  const clear = h('button', {
    onclick: async () => {
      if (await attempt(() => api('DELETE', `/v2/bots/${bot.id}/error_logs`))) fill(list, h('p', { class: 'empty' }, 'The log is empty.'))
    },
  }, 'Clear the log')
  fill(body, h('div', { class: 'actions' }, clear), list)
  every(3000, async () => {
    const entries = await api('GET', `/v2/bots/${bot.id}/error_logs`)
    fill(list, entries.length ? entries.map(errorEntry) : h('p', { class: 'empty' }, 'No errors: every run went well.'))
  })
}

async function broadcasts(body, bot) {
  const list = h('div', { 'aria-live': 'polite' })
  fill(body, h('p', { class: 'muted' },
    'A command starts a broadcast with ', h('code', {}, "Bot.runAll({command: '/news', for_chats: 'all'})"),
    '. Its progress shows here; pause, resume or cancel it.'), list)
  const control = (task, action) => attempt(async () => {
    const path = `/v2/bots/${bot.id}/broadcast_tasks/${task.id}`
    if (action === 'cancel') await api('DELETE', path)
    else await api('POST', `${path}/${action}`)
    toast(`Broadcast ${task.id}: ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'canceled'}`)
  })
  every(1000, async () => {
    const tasks = await api('GET', `/v2/bots/${bot.id}/broadcast_tasks`)
    fill(list, table(['Task', 'Command', 'Status', 'Progress', ''], tasks.map((t) => {
      const live = ['waiting', 'running', 'paused'].includes(t.status)
      return [String(t.id), t.command, h('span', { class: `status-${t.status}` }, t.status),
        h('span', {}, h('progress', { max: String(t.total || 1), value: String(t.cur_position) }),
          ` ${t.cur_position} / ${t.total} (${t.errors_count} errors)`),
        live ? h('span', { class: 'row-actions' },
          t.status === 'paused'
            ? h('button', { onclick: () => control(t, 'resume') }, 'Resume')
            : h('button', { onclick: () => control(t, 'pause') }, 'Pause'),
          h('button', { class: 'danger', onclick: () => control(t, 'cancel') }, 'Cancel')) : '']
    }), 'No broadcasts yet.'))
  })
}

async function config(body, bot) {
  const { bot: bp } = await api('GET', `/v1/admin/bots/${bot.uid}`)
  const configuration = bp.configuration || { data: {}, schema: {} }
  const schema = configuration.schema || {}
  const hasSchema = schema.properties && Object.keys(schema.properties).length
  const error = h('p', { class: 'error', role: 'alert' })
  let read
  let editor
  if (hasSchema) {
    const made = schemaForm(schema, configuration.data || {})
    editor = made.element
    read = made.read
  } else {
    const text = h('textarea', { rows: '10', class: 'mono' }, JSON.stringify(configuration.data || {}, null, 2))
    editor = field('Configuration data (JSON)', text, 'The bot has no configuration schema: its data is edited as JSON.')
    read = () => JSON.parse(text.value || '{}')
  }
  const form = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      error.textContent = ''
      let data
      try { data = read() } catch (err) { error.textContent = err.message; return }
      try {
        await api('PUT', `/v1/admin/bots/${bot.uid}`, { configuration: { data, schema } })
        toast('Configuration saved')
      } catch (err) { error.textContent = err.message }
    },
  }, h('h2', {}, 'Configuration'), h('p', { class: 'muted' }, 'The data a Botpress bot reads as its configuration, checked against its schema.'), editor, error, h('button', { class: 'primary', type: 'submit' }, 'Save configuration'))
  fill(body, form)
}
