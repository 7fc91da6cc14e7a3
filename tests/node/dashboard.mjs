// Walks botyard's dashboard in headless Chromium (Debian's package) as a new user would:
//   node dashboard.mjs <server url> <Kore.ai export zip> [screenshot dir]
// Signs up, creates a bot, adds a folder and a command, talks to it in the try-it panel, breaks it
// (a syntax error marked in the editor, then a failing run shown beside the command), starts and
// pauses a broadcast, imports a Kore.ai export and watches the job, creates a Kore.ai app, exports
// and downloads an archive, fills a Botpress configuration form, signs in again with the keyboard
// only, and checks that each page fits a phone's width. Prints one JSON line of what it saw and
// the first load's figures; exits 1 on any failure.
import { chromium } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

const [, , base, koreExport, shots] = process.argv
const WAIT = { timeout: 20000 }
const seen = { pages: {} }
if (shots) mkdirSync(shots, { recursive: true })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
})

async function shot(page, name) {
  if (!shots) return
  await page.evaluate(() => document.getElementById('toast').replaceChildren())
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}

/** Controls a screen reader could not name: the number of them, per page. */
async function unlabelled(page) {
  return page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
    .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
    .filter((el) => {
      const named = el.getAttribute('aria-label') || el.getAttribute('title') || (el.labels && el.labels.length) ||
        (el.textContent || '').trim() || el.closest('label')
      return !named
    }).map((el) => el.outerHTML.slice(0, 80)))
}

async function fits(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)
}

async function checkPage(page, name) {
  seen.pages[name] = { unlabelled: await unlabelled(page), fits: await fits(page) }
  await shot(page, name)
}

/** Sends `text` in the try-it panel and waits for a bot bubble containing `expect`. */
async function tryIt(page, text, expect) {
  const frame = page.frameLocator('#try-it')
  await frame.locator('#state:text("online")').waitFor(WAIT)
  await frame.locator('#text').fill(text)
  await frame.locator('#text').press('Enter')
  if (expect) await frame.locator(`.msg.bot:has-text("${expect}")`).last().waitFor(WAIT)
}

async function setCode(page, code) {
  await page.fill('.code-input', code)
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  const page = await context.newPage()
  page.on('pageerror', (e) => { seen.scriptErrors = [...(seen.scriptErrors || []), e.message] })

  // Sign up.
  await page.goto(`${base}/`)
  await page.waitForSelector('h1:text("Sign in to botyard")', WAIT)
  await page.click('a:text("Create an account")')
  await page.waitForSelector('h1:text("Create your botyard account")', WAIT)
  await page.fill('input[type=email]', 'ann@example.com')
  await page.fill('input[type=password]', 'a long password')
  await checkPage(page, 'signup')
  await page.click('button:text("Sign up")')
  await page.waitForSelector('h1:text("Bots")', WAIT)

  // Create a bot; the editor opens.
  await page.fill('input[name=name]', 'Greeter')
  await page.click('button:text("Create bot")')
  await page.waitForSelector('h2:text("New command")', WAIT)
  const botId = page.url().match(/#\/bots\/(\d+)\/commands/)[1]

  // A folder, and a command in it.
  await page.fill('input[aria-label="New folder title"]', 'Greetings')
  await page.click('button:text("Add folder")')
  await page.waitForSelector('.tree summary:has-text("Greetings")', WAIT)
  await page.fill('input[name=command]', '/start')
  await page.selectOption('select[name=folder]', { label: 'Greetings' })
  await setCode(page, "let n = (User.getProperty('visits') || 0) + 1\nUser.setProperty('visits', n, 'integer')\nBot.sendMessage('Hello from the dashboard, visit ' + n)")
  await page.click('button:text("Save")')
  await page.waitForSelector('h2:text("Command /start")', WAIT)
  seen.tree = await page.evaluate(() => [...document.querySelectorAll('.tree details')].map((d) =>
    `${d.querySelector('.folder').textContent}: ${[...d.querySelectorAll('li a')].map((a) => a.textContent).join(', ')}`))

  // A Bots.Business bot waits to be started.
  await page.click('.tabs a:text("Overview")')
  await page.click('button:text("Start bot")')
  await page.waitForSelector('.badge:text("works")', WAIT)
  await checkPage(page, 'bot-overview')

  // Talk to it in the try-it panel.
  await page.click('.tabs a:text("Commands")')
  await page.click('.tree a:text("/start")')
  await page.waitForSelector('h2:text("Command /start")', WAIT)
  await tryIt(page, '/start', 'Hello from the dashboard, visit 1')
  await tryIt(page, '/start', 'visit 2')
  await checkPage(page, 'command-editor')

  // A syntax error is marked on its line and not saved.
  await setCode(page, "Bot.sendMessage('one')\nBot.sendMessage('two' +)")
  await page.click('button:text("Save")')
  await page.waitForSelector('.gutter span.bad', WAIT)
  seen.syntax = { line: await page.locator('.gutter span.bad').innerText(), problem: await page.locator('.problem').innerText() }
  await checkPage(page, 'syntax-error')

  // A failing run shows its error log entry beside the command.
  await setCode(page, 'Bot.sendMessage(notDefinedAnywhere)')
  await page.click('button:text("Save")')
  await page.waitForSelector('.toast:has-text("Saved /start")', WAIT)
  await tryIt(page, '/start')
  await page.waitForSelector('.command-errors .error-entry', WAIT)
  seen.runError = await page.locator('.command-errors .error-entry').first().innerText()
  await checkPage(page, 'run-error')

  // Unsaved code holds the user on the page until they agree to leave.
  await setCode(page, "Bot.sendMessage('draft')")
  page.once('dialog', (d) => d.dismiss())
  await page.click('.tabs a:text("Chats")')
  await page.waitForTimeout(500)
  seen.keptDraft = await page.locator('.code-input').inputValue()
  page.once('dialog', (d) => d.accept())

  // Chats and their properties.
  await page.click('.tabs a:text("Chats")')
  await page.locator('td button.link').first().click()
  await page.waitForSelector('.card h2:has-text("Chat")', WAIT)
  seen.chats = await page.locator('table').first().innerText()
  seen.userProperties = await page.locator('table').nth(1).innerText()
  await checkPage(page, 'chats')

  // A broadcast, started by a command, paused from the dashboard.
  const session = await page.evaluate(() => localStorage.getItem('botyard.session'))
  const bot = await (await fetch(`${base}/v2/bots/${botId}`, { headers: { authorization: `Bearer ${session}` } })).json()
  for (let i = 0; i < 12; i++) {
    const user = await (await fetch(`${base}/chat/${bot.web_channel_id}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()
    const made = await fetch(`${base}/chat/${bot.web_channel_id}/conversations`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-user-key': user.key }, body: '{}',
    })
    if (!made.ok) throw new Error(`conversation: ${made.status} ${await made.text()}`)
  }
  await page.click('.tabs a:text("Commands")')
  await page.click('a.button:text("New command")')
  await page.waitForSelector('h2:text("New command")', WAIT)
  await page.fill('input[name=command]', '/news')
  await setCode(page, "Bot.sendMessage('news')")
  await page.click('button:text("Save")')
  await page.waitForSelector('h2:text("Command /news")', WAIT)
  // The /news editor has a command field too: fill only once the new command's form is drawn.
  await page.click('a.button:text("New command")')
  await page.waitForSelector('h2:text("New command")', WAIT)
  await page.fill('input[name=command]', '/broadcast')
  await setCode(page, "Bot.runAll({command: '/news', for_chats: 'all'})\nBot.sendMessage('broadcast started')")
  await page.click('button:text("Save")')
  await page.waitForSelector('h2:text("Command /broadcast")', WAIT)
  await tryIt(page, '/broadcast', 'broadcast started')
  await page.click('.tabs a:text("Broadcasts")')
  await page.click('button:text("Pause")', WAIT)
  await page.waitForSelector('.status-paused', WAIT)
  seen.broadcast = await page.locator('table').innerText()
  await checkPage(page, 'broadcasts')
  await page.click('button:text("Resume")', WAIT)
  await page.waitForSelector('.status-finished', { timeout: 60000 })

  // Export the bot and download the archive.
  await page.click('.tabs a:text("Overview")')
  await page.click('button:text("Export archive")')
  await page.waitForSelector('h1:text("Jobs")', WAIT)
  const downloading = page.waitForEvent('download', WAIT)
  await page.click('button:text("Download")', WAIT)
  const file = await downloading
  seen.download = file.suggestedFilename()

  // Import a Kore.ai export and watch its status.
  await page.setInputFiles('input[type=file]', koreExport)
  await page.fill('input[name=name]', 'Vaxie')
  await page.click('button:text("Upload and import")')
  await page.waitForSelector('tr:has-text("Kore.ai import") .status-succeeded', { timeout: 60000 })
  seen.jobs = await page.locator('table').innerText()
  await checkPage(page, 'jobs')
  await page.click('nav a:text("Bots")')
  await page.waitForSelector('td a:text("Vaxie")', WAIT)
  seen.bots = await page.locator('table').innerText()
  await checkPage(page, 'bots')

  // A Kore.ai app: its secret is shown once.
  await page.click('nav a:text("Kore.ai apps")')
  // The bots page has a name field too: fill only once the apps page is drawn.
  await page.waitForSelector('h1:text("Kore.ai apps")', WAIT)
  await page.fill('input[name=name]', 'CI')
  await page.click('button:text("Create app")')
  await page.waitForSelector('#client-secret', WAIT)
  seen.appSecret = await page.locator('#client-secret').innerText()
  await checkPage(page, 'apps')
  await page.reload()
  await page.waitForSelector('td:text("CI")', WAIT)
  seen.secretAfterReload = await page.locator('#client-secret').count()

  // A Botpress bot's configuration, as a form generated from its schema.
  const workspace = await page.evaluate(() => localStorage.getItem('botyard.session.workspace'))
  const bp = await (await fetch(`${base}/v1/admin/bots`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${session}`, 'x-workspace-id': workspace },
    body: JSON.stringify({
      name: 'Support',
      configuration: {
        data: { greeting: 'Hi', retries: 2 },
        schema: { type: 'object', required: ['greeting'], properties: {
          greeting: { type: 'string', title: 'Greeting', description: 'The first message' },
          retries: { type: 'integer', minimum: 0 },
          tone: { type: 'string', enum: ['formal', 'casual'] },
          escalate: { type: 'boolean' },
        } },
      },
    }),
  })).json()
  const bpBots = await (await fetch(`${base}/v2/bots`, { headers: { authorization: `Bearer ${session}` } })).json()
  const bpNumber = bpBots.find((b) => b.uid === bp.bot.id).id
  await page.goto(`${base}/#/bots/${bpNumber}/config`)
  await page.waitForSelector('h2:text("Configuration")', WAIT)
  await page.fill('input[name=greeting]', 'Welcome!')
  await page.fill('input[name=retries]', '5')
  await page.selectOption('select[name=tone]', { label: 'casual' })
  await page.check('input[name=escalate]')
  await page.click('button:text("Save configuration")')
  await page.waitForSelector('.toast:has-text("Configuration saved")', WAIT)
  const saved = await (await fetch(`${base}/v1/admin/bots/${bp.bot.id}`, {
    headers: { authorization: `Bearer ${session}`, 'x-workspace-id': workspace },
  })).json()
  seen.configuration = saved.bot.configuration.data
  seen.status = { botpress: await page.locator('.badge').innerText() }
  await checkPage(page, 'botpress-config')

  // Members, and a second workspace to switch to.
  await page.click('nav a:text("Members")')
  await page.waitForSelector('td:text("ann@example.com")', WAIT)
  await checkPage(page, 'members')
  await page.fill('input[name=workspace]', 'Team')
  await page.click('button:text("Create workspace")')
  await page.waitForSelector('p.empty:has-text("No bots in this workspace")', WAIT)
  seen.workspaces = await page.locator('select[aria-label=Workspace] option').allTextContents()

  // Sign out, then sign in with the keyboard alone.
  await page.click('button:text("Sign out")')
  await page.waitForSelector('h1:text("Sign in to botyard")', WAIT)
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate(() => document.activeElement && document.activeElement.type === 'email')) break
  }
  await page.keyboard.type('ann@example.com')
  await page.keyboard.press('Tab')
  await page.keyboard.type('a long password')
  await page.keyboard.press('Enter')
  await page.waitForSelector('h1:text("Bots")', WAIT)
  seen.keyboardSignIn = true

  // A phone-sized screen.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  const small = await phone.newPage()
  await small.goto(`${base}/`)
  await small.evaluate(([token, ws]) => {
    localStorage.setItem('botyard.session', token)
    localStorage.setItem('botyard.session.workspace', ws)
  }, [session, workspace])
  await small.goto(`${base}/#/bots/${botId}/commands`)
  await small.waitForSelector('h2:text("New command")', WAIT)
  await checkPage(small, 'phone-commands')
  await small.goto(`${base}/#/`)
  await small.waitForSelector('td a:text("Greeter")', WAIT)
  await checkPage(small, 'phone-bots')

  // First load, signed in: the page and every asset from a cold cache, until the bots are listed.
  const cold = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const fresh = await cold.newPage()
  await fresh.goto(`${base}/dashboard/none`)
  await fresh.evaluate(([token, ws]) => {
    localStorage.setItem('botyard.session', token)
    localStorage.setItem('botyard.session.workspace', ws)
  }, [session, workspace])
  const started = Date.now()
  await fresh.goto(`${base}/#/`)
  await fresh.waitForSelector('td a:text("Greeter")', WAIT)
  const loadMs = Date.now() - started
  const transfer = await fresh.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0]
    const assets = performance.getEntriesByType('resource').filter((r) => r.name.includes('/dashboard/'))
    return {
      documentBytes: nav.transferSize,
      assetBytes: assets.reduce((n, r) => n + r.transferSize, 0),
      assetBytesUncompressed: assets.reduce((n, r) => n + r.decodedBodySize, 0) + nav.decodedBodySize,
      domInteractiveMs: Math.round(nav.domInteractive),
      assets: assets.length,
    }
  })
  seen.firstLoad = { ...transfer, untilBotsListedMs: loadMs, compressedBytes: transfer.documentBytes + transfer.assetBytes }
  console.log(JSON.stringify(seen))
} finally {
  await browser.close()
}
