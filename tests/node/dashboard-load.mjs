// Measures the dashboard's first load in headless Chromium (Debian's package) against a running
// botyard: a cold browser context each time (no cache), signed in, until the bot list is drawn;
// side by side with the web chat page (one embedded HTML file, until it is online) as a baseline.
//   node dashboard-load.mjs <server url> [runs]
// Prints one JSON line: bytes on the wire (gzip) and uncompressed, median and p95 times.
import { chromium } from 'playwright-core'

const [, , base, runsArg] = process.argv
const runs = Number(runsArg || 20)
const post = async (path, body, headers = {}) => {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`)
  return r.json()
}
const email = `load-${Date.now()}@example.com`
const signup = await post('/v2/auth', { email, password: 'a long password' })
const { access_token: token } = await post('/v2/auth/sign_in', { email, password: 'a long password' })
let bot
for (let i = 0; i < 20; i++) bot = await post('/v2/bots', { name: `Bot ${i}` }, { authorization: `Bearer ${token}` })

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] }
}
async function measure(url, ready, prepare) {
  const times = []
  let wire = 0
  let bytes = 0
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext()
    const page = await context.newPage()
    if (prepare) await prepare(page)
    const started = performance.now()
    await page.goto(url)
    await page.waitForSelector(ready, { timeout: 20000 })
    times.push(performance.now() - started)
    const sizes = await page.evaluate(() => {
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
        .filter((e) => !e.name.includes('/v2/') && !e.name.includes('/conversations') && !e.name.includes('/users'))
      return { wire: entries.reduce((n, e) => n + e.transferSize, 0), bytes: entries.reduce((n, e) => n + e.decodedBodySize, 0) }
    })
    wire = sizes.wire
    bytes = sizes.bytes
    await context.close()
  }
  return { ...stats(times), wireBytes: wire, bytes }
}
try {
  const dashboard = await measure(`${base}/#/`, 'td a:text("Bot 19")', async (page) => {
    await page.goto(`${base}/dashboard/none`)
    await page.evaluate(([t, w]) => {
      localStorage.setItem('botyard.session', t)
      localStorage.setItem('botyard.session.workspace', w)
    }, [token, signup.workspace.id])
  })
  const webchat = await measure(`${base}/chat/${bot.web_channel_id}`, '#state:text("online")')
  console.log(JSON.stringify({ runs, dashboard, webchat, ratio: dashboard.median / webchat.median }))
} finally {
  await browser.close()
}
