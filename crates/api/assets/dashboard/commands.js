// A bot's commands: the tree of folders and commands, the editor of one command (its code
// checked for syntax errors before it is saved, the error log entries of its failing runs below
// it), and a "try it" panel with the bot's web chat beside it.
import { h, fill, field, api, attempt, toast, every, guardUnsaved } from './ui.js'
import { botHeader, errorEntry } from './bots.js'
import { codeEditor } from './editor.js'

async function allCommands(bot) {
  const all = []
  for (let page = 1; page <= 100; page++) {
    const batch = await api('GET', `/v2/bots/${bot}/commands?page=${page}`)
    all.push(...batch)
    if (batch.length < 50) break
  }
  return all
}

export async function commandsPage(main, botId, commandId) {
  const [bot, folders, commands] = await Promise.all([
    api('GET', `/v2/bots/${botId}`),
    api('GET', `/v2/bots/${botId}/commands_folders`),
    allCommands(botId),
  ])
  const current = commandId ? commands.find((c) => String(c.id) === commandId) : null
  const editorPane = h('section', { class: 'pane editor-pane', 'aria-label': 'Command' })
  // Saving or adding a folder redraws the tree (and the folder choice) in place: the editor keeps
  // its state and the try-it chat its conversation.
  const page = { bot, current, form: null }
  page.refresh = async () => {
    const [nextFolders, nextCommands] = await Promise.all([
      api('GET', `/v2/bots/${botId}/commands_folders`),
      allCommands(botId),
    ])
    const next = tree(page, nextFolders, nextCommands)
    page.tree.replaceWith(next)
    page.tree = next
    if (page.form) page.form.setFolders(nextFolders)
  }
  page.tree = tree(page, folders, commands)
  fill(main, botHeader(bot, 'commands'),
    h('div', { class: 'commands-layout' }, page.tree, editorPane, tryIt(bot)))
  if (commandId && !current) fill(editorPane, h('p', { role: 'alert' }, 'This command no longer exists.'))
  else page.form = commandForm(editorPane, page, folders)
  if (bot.origin === 'koreai' && !commands.length) {
    editorPane.prepend(h('p', { class: 'notice' }, 'This bot runs its imported Kore.ai dialogs, FAQs and small talk ',
      '(edit them in Kore.ai and import again, from the Jobs page). BJS commands added here answer what they match first.'))
  }
}

function tree(page, folders, commands) {
  const { bot, current } = page
  const link = (c) => h('li', {}, h('a', {
    href: `#/bots/${bot.id}/commands/${c.id}`,
    'aria-current': current && current.id === c.id ? 'page' : null,
  }, c.command))
  const root = commands.filter((c) => !c.commands_folder_id)
  const title = h('input', { 'aria-label': 'New folder title', placeholder: 'New folder', maxlength: '100' })
  const removeFolder = (f) => h('button', {
    type: 'button', class: 'link small', 'aria-label': `Delete folder ${f.title}`,
    onclick: async () => {
      if (!confirm(`Delete the folder ${f.title}? Its commands move out of it.`)) return
      if (await attempt(() => api('DELETE', `/v2/bots/${bot.id}/commands_folders/${f.id}`))) {
        toast(`Folder ${f.title} deleted`)
        await page.refresh()
      }
    },
  }, 'delete')
  return h('nav', { class: 'pane tree', 'aria-label': 'Commands' },
    h('a', { class: 'button primary', href: `#/bots/${bot.id}/commands` }, 'New command'),
    root.length ? h('ul', { class: 'root', 'aria-label': 'Commands outside folders' }, root.map(link)) : null,
    folders.map((f) => h('details', { open: true },
      h('summary', {}, h('span', { class: 'folder' }, f.title), ' ', removeFolder(f)),
      h('ul', {}, commands.filter((c) => c.commands_folder_id === f.id).map(link)))),
    h('form', {
      class: 'inline-form',
      onsubmit: async (e) => {
        e.preventDefault()
        if (!title.value.trim()) return
        if (await attempt(() => api('POST', `/v2/bots/${bot.id}/commands_folders`, { title: title.value.trim() }))) {
          toast('Folder created')
          await page.refresh()
        }
      },
    }, title, h('button', { type: 'submit' }, 'Add folder')))
}

function commandForm(pane, page, folders) {
  const { bot, current: command } = page
  const c = command || { command: '', aliases: [], answer: '', keyboard_body: '', help: '', code: '', need_reply: false, commands_folder_id: null }
  const name = h('input', { name: 'command', required: true, value: c.command, placeholder: '/start', autocomplete: 'off' })
  const aliases = h('input', { name: 'aliases', value: c.aliases.map((a) => a.command).join(', '), autocomplete: 'off' })
  const answer = h('textarea', { name: 'answer', rows: '2' }, c.answer)
  const keyboard = h('input', { name: 'keyboard', value: c.keyboard_body, placeholder: 'Help, About', autocomplete: 'off' })
  const folder = h('select', { name: 'folder' })
  const setFolders = (list) => {
    const chosen = folder.value ? Number(folder.value) : c.commands_folder_id
    fill(folder, h('option', { value: '' }, '(no folder)'),
      list.map((f) => h('option', { value: String(f.id), selected: f.id === chosen }, f.title)))
  }
  setFolders(folders)
  const needReply = h('input', { type: 'checkbox', name: 'need_reply', checked: c.need_reply })
  let dirty = false
  const editor = codeEditor(c.code, { onInput: () => { dirty = true } })
  guardUnsaved(() => dirty)
  const title = h('h2', {}, command ? `Command ${command.command}` : 'New command')
  const errorsBox = h('div', { class: 'command-errors', 'aria-live': 'polite' })
  const save = async (e) => {
    e.preventDefault()
    const check = await attempt(() => api('POST', `/v2/bots/${bot.id}/commands/check`, { bjs_code: editor.value() }))
    if (!check) return
    if (!check.valid) {
      editor.setProblem(check.error)
      toast('Not saved: the code has a syntax error', 'error')
      editor.textarea.focus()
      return
    }
    editor.setProblem(null)
    const body = {
      command: name.value.trim(),
      aliases: aliases.value,
      answer: answer.value,
      keyboard_body: keyboard.value,
      commands_folder_id: folder.value ? Number(folder.value) : null,
      need_reply: needReply.checked,
      bjs_code: editor.value(),
    }
    const saved = await attempt(() => command
      ? api('PUT', `/v2/bots/${bot.id}/commands/${command.id}`, body)
      : api('POST', `/v2/bots/${bot.id}/commands`, body))
    if (!saved) return
    dirty = false
    toast(`Saved ${saved.command}`)
    title.textContent = `Command ${saved.command}`
    if (!command) location.hash = `#/bots/${bot.id}/commands/${saved.id}`
    else {
      Object.assign(command, saved)
      await page.refresh()
    }
  }
  const remove = command ? h('button', {
    type: 'button', class: 'danger',
    onclick: async () => {
      if (!confirm(`Delete ${command.command}?`)) return
      if (await attempt(() => api('DELETE', `/v2/bots/${bot.id}/commands/${command.id}`))) {
        dirty = false
        toast(`Deleted ${command.command}`)
        location.hash = `#/bots/${bot.id}/commands`
      }
    },
  }, 'Delete') : null
  const form = h('form', { class: 'command-form', onsubmit: save, oninput: () => { dirty = true } },
    title,
    h('div', { class: 'grid2' }, field('Command', name, 'A word or /command; * answers what no command matches.'),
      field('Aliases', aliases, 'Comma-separated.'), field('Folder', folder), field('Keyboard', keyboard, 'Buttons: commas within a row, \\n between rows.')),
    field('Answer', answer, 'Sent before the code runs.'),
    h('div', { class: 'field check' }, h('label', {}, needReply, ' Wait for a reply (the next message runs this command)')),
    h('div', { class: 'field' }, h('span', { class: 'label' }, 'BJS code'), editor.element,
      h('small', {}, 'Tab indents; Esc then Tab leaves the editor; Ctrl+S saves. Saving checks the code first.')),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Save'), remove))
  fill(pane, form, command ? h('h3', {}, 'Errors of this command') : null, command ? errorsBox : null)
  // Ctrl+S saves, as in editors.
  pane.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') save(e)
  })
  if (command) {
    every(2000, async () => {
      const entries = (await api('GET', `/v2/bots/${bot.id}/error_logs`))
        .filter((entry) => entry.scenario.bot_command.command === command.command)
      fill(errorsBox, entries.length ? entries.slice(0, 5).map(errorEntry) : h('p', { class: 'empty' }, 'No failed runs.'))
    })
  }
  return { setFolders }
}

function tryIt(bot) {
  const running = bot.status === 'works'
  return h('aside', { class: 'pane try-it', 'aria-label': 'Try it' },
    h('h2', {}, 'Try it'),
    running ? null : h('p', { class: 'muted' }, 'The bot is stopped: start it on the Overview page to get answers.'),
    h('iframe', { id: 'try-it', title: `Web chat with ${bot.name}`, src: `/chat/${bot.web_channel_id}` }))
}

