// The code editor for BJS: a textarea over a highlighted copy of its text, with line numbers and
// a marker on the line of an error. Tab indents; Escape then Tab leaves the editor (keyboard users
// are never trapped).
import { h } from './ui.js'

const KEYWORDS = new Set(('break case catch const continue debugger default delete do else false finally for ' +
  'function if in instanceof let new null of return switch this throw true try typeof undefined var void while with').split(' '))
/** What Bots.Business scripts see (docs: BJS). */
const BJS = new Set(('Bot User Chat Api HTTP Libs WebApp AdminPanel Webhooks ResourcesLib Bot message params options ' +
  'request content user chat bot completed_commands_count command data').split(' '))

const TOKEN = /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|('(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?|`(?:\\[\s\S]|[^`\\])*`?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_$][\w$]*)/g

/** The code as (class, text) pieces. */
function tokens(code) {
  const out = []
  let last = 0
  for (const m of code.matchAll(TOKEN)) {
    if (m.index > last) out.push(['', code.slice(last, m.index)])
    let kind = ''
    if (m[1]) kind = 'tok-comment'
    else if (m[2]) kind = 'tok-string'
    else if (m[3]) kind = 'tok-number'
    else if (KEYWORDS.has(m[4])) kind = 'tok-keyword'
    else if (BJS.has(m[4])) kind = 'tok-bjs'
    out.push([kind, m[0]])
    last = m.index + m[0].length
  }
  if (last < code.length) out.push(['', code.slice(last)])
  return out
}

function escape(text) {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c])
}

/** The highlighted code, a `<span class="line">` per line (`bad` marks the error's line). */
function highlighted(code, badLine) {
  const lines = [[]]
  for (const [kind, text] of tokens(code)) {
    text.split('\n').forEach((part, i) => {
      if (i > 0) lines.push([])
      if (part) lines[lines.length - 1].push(kind ? `<span class="${kind}">${escape(part)}</span>` : escape(part))
    })
  }
  return lines.map((parts, i) =>
    `<span class="line${i + 1 === badLine ? ' bad' : ''}">${parts.join('') || ' '}</span>`).join('')
}

/**
 * An editor holding `code`. Returns `{element, textarea, value(), setProblem(problem)}`; a problem
 * is `{line, column, message}` (or null to clear it).
 */
export function codeEditor(code, { label = 'BJS code', onInput } = {}) {
  const textarea = h('textarea', {
    class: 'code-input', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off',
    'aria-label': label, 'aria-describedby': '', wrap: 'off',
  })
  textarea.value = code || ''
  const view = h('pre', { class: 'code-view', 'aria-hidden': 'true' })
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' })
  const problemText = h('p', { class: 'problem', role: 'alert', id: `problem-${Math.random().toString(36).slice(2, 8)}` })
  textarea.setAttribute('aria-describedby', problemText.id)
  let badLine = null

  const draw = () => {
    view.innerHTML = highlighted(textarea.value, badLine)
    const count = textarea.value.split('\n').length
    gutter.innerHTML = Array.from({ length: count }, (_, i) =>
      `<span class="${i + 1 === badLine ? 'bad' : ''}">${i + 1}</span>`).join('')
    sync()
  }
  const sync = () => {
    view.scrollTop = textarea.scrollTop
    view.scrollLeft = textarea.scrollLeft
    gutter.scrollTop = textarea.scrollTop
  }
  let escaped = false
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { escaped = true; return }
    if (e.key === 'Tab' && !escaped && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault()
      const { selectionStart: start, selectionEnd: end, value } = textarea
      if (e.shiftKey) {
        const lineStart = value.lastIndexOf('\n', start - 1) + 1
        if (value.startsWith('  ', lineStart)) {
          textarea.setRangeText('', lineStart, lineStart + 2, 'preserve')
        }
      } else {
        textarea.setRangeText('  ', start, end, 'end')
      }
      textarea.dispatchEvent(new Event('input'))
    }
    escaped = false
  })
  textarea.addEventListener('input', () => {
    if (badLine !== null) { badLine = null; problemText.textContent = '' }
    draw()
    if (onInput) onInput(textarea.value)
  })
  textarea.addEventListener('scroll', sync)
  draw()

  const element = h('div', { class: 'editor-wrap' },
    h('div', { class: 'editor' }, gutter, h('div', { class: 'code-area' }, view, textarea)), problemText)
  return {
    element,
    textarea,
    value: () => textarea.value,
    setProblem(problem) {
      badLine = problem && problem.line ? problem.line : null
      problemText.textContent = problem
        ? `${problem.message}${problem.line ? ` (line ${problem.line}${problem.column ? `, column ${problem.column}` : ''})` : ''}`
        : ''
      draw()
    },
  }
}
