// The workspace's pages: jobs (imports and exports with live progress, downloads, uploads),
// Kore.ai API apps (the secret shown once) and members.
import { h, fill, field, api, attempt, toast, every, heading, table, fmtTime, session, download } from './ui.js'

const KINDS = {
  kore_import: 'Kore.ai import', kore_export: 'Kore.ai export', csv_import: 'CSV import', git_import: 'Git import',
  git_export: 'Git export', archive_export: 'Export', archive_import: 'Import', bot_copy: 'Copy',
}

/** How far a job has come, from what its details say. */
function progress(job) {
  const d = job.details || {}
  if (Array.isArray(d.statusLogs)) {
    const last = d.statusLogs[d.statusLogs.length - 1] || {}
    return `${d.statusLogs.length} steps${last.jobType ? ` · ${last.jobType} ${last.status || ''}` : ''}`
  }
  if (typeof d.new_count === 'number') return `${d.new_count} new, ${d.updated_count || 0} updated`
  return ''
}

export async function jobsPage(main) {
  const list = h('div', { 'aria-live': 'polite' })
  const file = h('input', { type: 'file', name: 'file', accept: '.zip,.json,application/zip,application/json', required: true })
  const name = h('input', { name: 'name', autocomplete: 'off', maxlength: '100' })
  const upload = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      if (!file.files[0]) return toast('Choose a file first', 'error')
      const query = name.value.trim() ? `?name=${encodeURIComponent(name.value.trim())}` : ''
      const answer = await attempt(() => api('POST', `/v1/admin/bots/import${query}`, file.files[0],
        { headers: { 'content-type': 'application/octet-stream' } }))
      if (answer) { toast('Import started'); upload.reset() }
    },
  }, h('h2', {}, 'Import a bot'),
  field('File', file, 'A Kore.ai export (its ZIP or botDefinition.json) or a botyard archive.'),
  field('Name', name, 'Optional: the new bot\'s name.'),
  h('button', { class: 'primary', type: 'submit' }, 'Upload and import'))
  fill(main, heading('Jobs'), h('p', { class: 'muted' }, 'Imports, exports and copies of this workspace, live.'), list, upload)

  const bots = new Map((await api('GET', '/v2/bots')).map((b) => [b.uid, b]))
  const save = (job) => attempt(async () =>
    download(await api('GET', `/v1/admin/jobs/${job.id}/download`, undefined, { raw: true }), `${job.id}.zip`))
  every(1000, async () => {
    const { jobs } = await api('GET', '/v1/admin/jobs')
    if (jobs.some((j) => j.botId && !bots.has(j.botId))) {
      for (const b of await api('GET', '/v2/bots')) bots.set(b.uid, b)
    }
    fill(list, table(['Job', 'Bot', 'Status', 'Progress', 'Started', ''], jobs.map((j) => {
      const bot = j.botId && bots.get(j.botId)
      return [
        KINDS[j.kind] || j.kind,
        bot ? h('a', { href: `#/bots/${bot.id}` }, bot.name) : '',
        h('span', { class: `status-${j.status}` }, j.status),
        j.error ? h('span', { class: 'error' }, j.error.message) : progress(j),
        fmtTime(j.startedAt || j.enqueuedAt),
        j.kind === 'archive_export' && j.status === 'succeeded'
          ? h('button', { onclick: () => save(j) }, 'Download') : '',
      ]
    }), 'No jobs yet.'))
  })
}

const SCOPES = ['Bot Definition', 'Bot Import', 'Bot Export', 'Bot Publish', 'Publish', 'Publish Status']

export async function appsPage(main) {
  const ws = session.workspace
  const list = h('div')
  const secretBox = h('div', { 'aria-live': 'assertive' })
  const name = h('input', { name: 'name', required: true, maxlength: '100', autocomplete: 'off' })
  const boxes = SCOPES.map((s) => h('input', { type: 'checkbox', value: s, checked: s === 'Bot Definition' || s === 'Bot Publish' }))
  const create = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value)
      const app = await attempt(() => api('POST', `/v2/workspaces/${ws}/apps`, { name: name.value.trim(), scopes }))
      if (!app) return
      create.reset()
      fill(secretBox, h('div', { class: 'card secret', role: 'alert' },
        h('h2', {}, `App ${app.name} created`),
        h('p', {}, 'Copy the client secret now: it is shown only this once.'),
        h('dl', { class: 'facts' },
          h('dt', {}, 'Client id'), h('dd', {}, h('code', { id: 'client-id' }, app.client_id)),
          h('dt', {}, 'Client secret'), h('dd', {}, h('code', { id: 'client-secret' }, app.client_secret)))))
      refresh()
    },
  }, h('h2', {}, 'New app'), field('Name', name),
  h('fieldset', {}, h('legend', {}, 'Scopes'), boxes.map((b) => h('label', { class: 'check' }, b, ` ${b.value}`))),
  h('button', { class: 'primary', type: 'submit' }, 'Create app'))
  const refresh = async () => {
    const apps = await api('GET', `/v2/workspaces/${ws}/apps`)
    fill(list, table(['App', 'Client id', 'Scopes', 'Created', ''], apps.map((a) => [
      a.name, h('code', {}, a.client_id), a.scopes.join(', '), fmtTime(a.created_at),
      h('button', {
        class: 'danger',
        onclick: async () => {
          if (confirm(`Delete the app ${a.name}? Its tokens stop working.`)
            && await attempt(() => api('DELETE', `/v2/workspaces/${ws}/apps/${a.client_id}`))) refresh()
        },
      }, 'Delete'),
    ]), 'No apps yet.'))
  }
  fill(main, heading('Kore.ai apps'),
    h('p', { class: 'muted' }, 'Apps sign the JWTs Kore.ai\'s public API (/api/public) and its Webhook channel take.'),
    secretBox, list, create)
  await refresh()
}

export async function membersPage(main) {
  const ws = session.workspace
  const list = h('div')
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' })
  const role = h('select', { name: 'role' }, ['developer', 'viewer', 'admin', 'owner'].map((r) => h('option', { value: r }, r)))
  const refresh = async () => {
    const { members, invitations } = await api('GET', `/v2/workspaces/${ws}/members`)
    const remove = (path, what) => h('button', {
      class: 'danger',
      onclick: async () => {
        if (confirm(`Remove ${what}?`) && await attempt(() => api('DELETE', path))) refresh()
      },
    }, 'Remove')
    fill(list,
      table(['Member', 'Role', 'Since', ''], members.map((m) => [m.email, m.role, fmtTime(m.joined_at),
        m.user_id === session.user.id ? '(you)' : remove(`/v2/workspaces/${ws}/members/${m.user_id}`, m.email)])),
      h('h2', {}, 'Invitations'),
      table(['Email', 'Role', 'Invited', ''], invitations.map((i) => [i.email, i.role, fmtTime(i.created_at),
        remove(`/v2/workspaces/${ws}/invitations/${encodeURIComponent(i.email)}`, `the invitation of ${i.email}`)]),
      'No pending invitations.'))
  }
  const invite = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      if (await attempt(() => api('POST', `/v2/workspaces/${ws}/members`, { email: email.value.trim(), role: role.value }))) {
        toast(`${email.value.trim()} added`)
        invite.reset()
        refresh()
      }
    },
  }, h('h2', {}, 'Add a member'), field('Email', email, 'Someone with an account joins at once; others are invited.'),
  field('Role', role), h('button', { class: 'primary', type: 'submit' }, 'Add'))
  const wsName = h('input', { name: 'workspace', required: true, maxlength: '100', autocomplete: 'off' })
  const newWorkspace = h('form', {
    class: 'card',
    onsubmit: async (e) => {
      e.preventDefault()
      const made = await attempt(() => api('POST', '/v2/workspaces', { name: wsName.value.trim() }))
      if (!made) return
      toast(`Workspace ${made.name} created`)
      session.workspace = made.id
      session.user = null
      location.hash = '#/'
    },
  }, h('h2', {}, 'New workspace'), field('Name', wsName, 'You own it; switch between workspaces at the top.'),
  h('button', { type: 'submit' }, 'Create workspace'))
  fill(main, heading('Members'), list, invite, newWorkspace)
  await refresh()
}
