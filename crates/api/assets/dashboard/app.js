// botyard's dashboard: the layout, sign-up and sign-in, and the router that shows a page for the
// address after `#`. Pages live in their own modules and call the same HTTP APIs as any client.
import { h, fill, field, api, session, toast, leavePage, heading, mayLeave, OfflineError } from './ui.js'
import { botsPage, botPage } from './bots.js'
import { commandsPage } from './commands.js'
import { jobsPage, appsPage, membersPage } from './workspace.js'

const main = document.getElementById('main')
const nav = document.getElementById('nav')

/** `#/bots/12/commands/3` → the page and its parameters. */
const routes = [
  [/^#\/signin$/, () => signInPage()],
  [/^#\/signup$/, () => signUpPage()],
  [/^#\/bots\/([^/]+)\/commands(?:\/(\d+))?$/, (m) => commandsPage(main, m[1], m[2])],
  [/^#\/bots\/([^/]+)(?:\/(\w+))?$/, (m) => botPage(main, m[1], m[2] || 'overview')],
  [/^#\/jobs$/, () => jobsPage(main)],
  [/^#\/apps$/, () => appsPage(main)],
  [/^#\/members$/, () => membersPage(main)],
  [/^(#\/?)?$/, () => botsPage(main)],
]

let shown = location.hash
let returning = false

async function show() {
  const hash = location.hash
  if (returning) { returning = false; return }
  // A page with unsaved changes may keep the user (the address goes back to it).
  if (hash !== shown && !mayLeave()) {
    returning = true
    location.hash = shown
    return
  }
  shown = hash
  leavePage()
  const open = /^#\/sign(in|up)$/.test(hash)
  if (!session.token && !open) {
    // After signing in, the user lands where they were going.
    if (hash && hash !== '#/') sessionStorage.setItem('botyard.next', hash)
    location.hash = '#/signin'
    return
  }
  if (session.token && !session.user && !(await loadUser())) return
  drawNav()
  const route = routes.find(([pattern]) => pattern.test(hash))
  fill(main)
  if (!route) {
    fill(main, heading('Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to your bots')))
    return
  }
  try {
    await route[1](hash.match(route[0]))
  } catch (e) {
    const offline = e instanceof OfflineError
    fill(main, heading(offline ? 'The server cannot be reached' : 'Something went wrong'),
      h('p', { role: 'alert', class: 'error' }, offline ? 'Check that botyard is running, then try again.' : e.message),
      h('button', { class: 'primary', onclick: show }, 'Try again'))
  }
}

async function loadUser() {
  try {
    session.user = await api('GET', '/v2/user')
  } catch (e) {
    session.token = null
    location.hash = '#/signin'
    return false
  }
  const spaces = session.user.workspaces
  if (!spaces.some((w) => w.id === session.workspace)) {
    session.workspace = (spaces.find((w) => w.personal) || spaces[0] || {}).id || ''
  }
  return true
}

function drawNav() {
  if (!session.token || !session.user) {
    fill(nav)
    return
  }
  const here = location.hash || '#/'
  const link = (href, text) =>
    h('a', { href, 'aria-current': here === href || (href === '#/' && here.startsWith('#/bots')) ? 'page' : null }, text)
  const picker = h('select', {
    'aria-label': 'Workspace',
    onchange: (e) => { session.workspace = e.target.value; show() },
  }, session.user.workspaces.map((w) =>
    h('option', { value: w.id, selected: w.id === session.workspace }, `${w.name} (${w.role})`)))
  fill(nav,
    h('ul', {},
      h('li', {}, link('#/', 'Bots')),
      h('li', {}, link('#/jobs', 'Jobs')),
      h('li', {}, link('#/apps', 'Kore.ai apps')),
      h('li', {}, link('#/members', 'Members'))),
    h('div', { class: 'who' }, picker,
      h('button', { class: 'link', onclick: signOut }, 'Sign out')))
}

function signOut() {
  if (!mayLeave()) return
  session.token = null
  session.user = null
  document.getElementById('toast').replaceChildren()
  location.hash = '#/signin'
}

function credentialsForm(title, submitText, onSubmit, footer) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true })
  const password = h('input', {
    type: 'password', name: 'password', required: true, minlength: '8',
    autocomplete: submitText === 'Sign up' ? 'new-password' : 'current-password',
  })
  const error = h('p', { class: 'error', role: 'alert' })
  const form = h('form', {
    class: 'card narrow',
    onsubmit: async (e) => {
      e.preventDefault()
      error.textContent = ''
      try {
        await onSubmit(email.value.trim(), password.value)
      } catch (err) {
        error.textContent = err.message
      }
    },
  }, heading(title), field('Email', email), field('Password', password, 'At least 8 characters.'), error,
  h('button', { class: 'primary', type: 'submit' }, submitText), footer)
  fill(main, form)
}

async function signIn(email, password) {
  const answer = await api('POST', '/v2/auth/sign_in', { email, password })
  session.token = answer.access_token
  session.user = null
  const next = sessionStorage.getItem('botyard.next')
  sessionStorage.removeItem('botyard.next')
  location.hash = next || '#/'
}

function signInPage() {
  credentialsForm('Sign in to botyard', 'Sign in', signIn,
    h('p', {}, 'New here? ', h('a', { href: '#/signup' }, 'Create an account')))
}

function signUpPage() {
  credentialsForm('Create your botyard account', 'Sign up', async (email, password) => {
    await api('POST', '/v2/auth', { email, password })
    toast('Account created')
    await signIn(email, password)
  }, h('p', {}, 'Have an account? ', h('a', { href: '#/signin' }, 'Sign in')))
}

window.addEventListener('beforeunload', (e) => {
  if (!mayLeave(true)) e.preventDefault()
})
// The skip link moves the focus without changing the address (the router owns the hash).
document.querySelector('.skip').addEventListener('click', (e) => { e.preventDefault(); main.focus() })
window.addEventListener('hashchange', show)
show()
