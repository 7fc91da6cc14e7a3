// Shared pieces of the dashboard: building elements, calling botyard's APIs with the session,
// notices, and what a page must undo when the user leaves it.

/** Creates an element: `h('button', {class: 'primary', onclick: fn}, 'Save')`. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'class') el.className = value
    else if (key === 'value') el.value = value
    else if (key === 'checked') el.checked = value
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, value)
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : String(child))
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

/** A labelled form control; `hint` explains it below. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`
  control.id = id
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null)
}

export function fmtTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return isNaN(d) ? iso : d.toLocaleString()
}

// --- the session -------------------------------------------------------------------------------

const KEY = 'botyard.session'

export const session = {
  get token() { return localStorage.getItem(KEY) },
  set token(value) { value ? localStorage.setItem(KEY, value) : localStorage.removeItem(KEY) },
  /** The workspace the pages act in (the personal one by default). */
  get workspace() { return localStorage.getItem(`${KEY}.workspace`) },
  set workspace(value) { localStorage.setItem(`${KEY}.workspace`, value) },
  user: null,
}

/** The server did not answer at all (it is down, or the network is). */
export class OfflineError extends Error {}

/** An API error: the dialect's message and the HTTP status. */
export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status }
}

/** The message of any dialect's error envelope. */
function errorMessage(body, status) {
  if (body && Array.isArray(body.errors) && body.errors.length) {
    const first = body.errors[0]
    return typeof first === 'string' ? body.errors.join('; ') : first.msg || JSON.stringify(first)
  }
  if (body && body.message) return body.message
  if (body && body.error) return body.error
  return `The server answered ${status}`
}

/**
 * Calls botyard: `api('GET', '/v2/bots')`. JSON in and out; `/v1/admin` calls carry the current
 * workspace. A 401 ends the session and goes to sign-in.
 */
export async function api(method, path, body, { raw = false, headers = {} } = {}) {
  const init = { method, headers: { ...headers } }
  if (session.token) init.headers.authorization = `Bearer ${session.token}`
  if (path.startsWith('/v1/admin') && session.workspace) init.headers['x-workspace-id'] = session.workspace
  if (body instanceof Blob || body instanceof ArrayBuffer || body instanceof FormData) init.body = body
  else if (body !== undefined) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let response
  try {
    response = await fetch(path, init)
  } catch (e) {
    throw new OfflineError('The server cannot be reached; check that botyard is running')
  }
  if (raw && response.ok) return response
  const text = await response.text()
  let parsed = null
  try { parsed = text ? JSON.parse(text) : null } catch { parsed = text }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith('/v2/auth')) {
      session.token = null
      location.hash = '#/signin'
    }
    throw new ApiError(response.status, errorMessage(parsed, response.status))
  }
  return parsed
}

// --- notices ------------------------------------------------------------------------------------

/** Shows a short notice in the live region (read out by screen readers). */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toast')
  const item = h('div', { class: `toast ${kind}` }, message)
  box.append(item)
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000)
}

/** Runs `work`, showing its error as a notice; returns its value or undefined. */
export async function attempt(work) {
  try {
    return await work()
  } catch (e) {
    toast(e.message, 'error')
    return undefined
  }
}

// --- leaving a page ----------------------------------------------------------------------------

let leaving = []
let unsaved = null

/** While `check()` is true the page holds unsaved changes: leaving asks first. */
export function guardUnsaved(check) { unsaved = check }

/** Whether the page may be left (asks when it holds unsaved changes; `quiet`: never asks). */
export function mayLeave(quiet = false) {
  if (!unsaved || !unsaved()) return true
  if (quiet) return false
  return confirm('Leave without saving your changes?')
}

/** Registers what to undo (a timer, a listener) when the page is left. */
export function onLeave(fn) { leaving.push(fn) }

export function leavePage() {
  for (const fn of leaving) fn()
  leaving = []
  unsaved = null
}

/** Calls `fn` now and every `ms` while the page is shown; stops on leaving. */
export function every(ms, fn) {
  let stopped = false
  let timer = null
  const tick = async () => {
    if (stopped) return
    try { await fn() } catch (e) { /* the next tick tries again */ }
    if (!stopped) timer = setTimeout(tick, ms)
  }
  tick()
  onLeave(() => { stopped = true; clearTimeout(timer) })
}

/** A page heading that takes the focus, so keyboard and screen reader users land on it. */
export function heading(text) {
  const el = h('h1', { tabindex: '-1' }, text)
  queueMicrotask(() => el.focus({ preventScroll: true }))
  return el
}

/** A table: `table(['Name', 'Status'], rows.map(r => [r.name, r.status]))`. */
export function table(headings, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', { class: 'empty' }, empty)
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))))
}

/** Tells how a download started from a fetched response is saved. */
export async function download(response, fallbackName) {
  const blob = await response.blob()
  const disposition = response.headers.get('content-disposition') || ''
  const match = /filename="([^"]+)"/.exec(disposition)
  const link = h('a', { href: URL.createObjectURL(blob), download: match ? match[1] : fallbackName })
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(link.href), 10000)
}
