// Drives botyard's web chat page in headless Chromium (Debian's package) with playwright-core:
//   node webchat-page.mjs <page url> [screenshot.png]
// Types "/start", waits for the answer, clicks the inline button, waits for the edited keyboard.
// Prints one JSON line with what it saw; exits 1 on any failure.
import { chromium } from 'playwright-core'

const [, , url, screenshot] = process.argv
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
})
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
  await page.goto(url)
  await page.waitForSelector('#state:text("online")', { timeout: 15000 })
  await page.fill('#text', '/start')
  await page.press('#text', 'Enter')
  await page.waitForSelector('.msg.bot:has-text("Welcome")', { timeout: 15000 })
  const keyboard = await page.locator('#keyboard button').allTextContents()
  await page.click('.inline button:has-text("Delete")', { timeout: 15000 })
  await page.waitForSelector('.inline button:has-text("Deleted")', { timeout: 15000 })
  await page.waitForSelector('.msg.bot:has-text("pressed")', { timeout: 15000 })
  const bubbles = await page.locator('.msg').allTextContents()
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)
  if (screenshot) await page.screenshot({ path: screenshot })
  console.log(JSON.stringify({ keyboard, bubbles, fits }))
} finally {
  await browser.close()
}
