// A form generated from a JSON schema (a Botpress bot's configuration schema): strings, numbers,
// integers, booleans, enums and nested objects get their own controls; arrays and anything else
// are edited as JSON. `read()` gives the data back, typed as the schema says.
import { h, field } from './ui.js'

export function schemaForm(schema, data) {
  const { element, read } = objectControls(schema, data || {}, [])
  return { element, read }
}

function objectControls(schema, data, path) {
  const readers = []
  const required = new Set(schema.required || [])
  const rows = Object.entries(schema.properties || {}).map(([key, sub]) => {
    const label = `${sub.title || key}${required.has(key) ? ' (required)' : ''}`
    const made = control(sub, data[key], [...path, key], label)
    readers.push([key, made.read])
    return made.element
  })
  const element = path.length
    ? h('fieldset', {}, h('legend', {}, schema.title || path[path.length - 1]), rows)
    : h('div', { class: 'schema-form' }, rows)
  const read = () => {
    const out = {}
    for (const [key, get] of readers) {
      const value = get()
      if (value !== undefined) out[key] = value
    }
    return out
  }
  return { element, read }
}

function control(schema, value, path, label) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type
  const hint = schema.description
  const name = path.join('.')
  const current = value === undefined ? schema.default : value
  if (Array.isArray(schema.enum)) {
    const select = h('select', { name },
      h('option', { value: '' }, '—'),
      schema.enum.map((v) => h('option', { value: JSON.stringify(v), selected: JSON.stringify(v) === JSON.stringify(current) }, String(v))))
    return { element: field(label, select, hint), read: () => (select.value ? JSON.parse(select.value) : undefined) }
  }
  if (type === 'boolean') {
    const box = h('input', { type: 'checkbox', name, checked: current === true })
    return {
      element: h('div', { class: 'field check' }, h('label', {}, box, ` ${label}`), hint ? h('small', {}, hint) : null),
      read: () => box.checked,
    }
  }
  if (type === 'integer' || type === 'number') {
    const input = h('input', {
      type: 'number', name, value: current ?? '', step: type === 'integer' ? '1' : 'any',
      min: schema.minimum, max: schema.maximum,
    })
    return {
      element: field(label, input, hint),
      read: () => (input.value === '' ? undefined : Number(input.value)),
    }
  }
  if (type === 'string') {
    const secret = /secret|password|token|key/i.test(path[path.length - 1])
    const long = (schema.maxLength || 0) > 200 || (current || '').length > 80
    const input = long
      ? h('textarea', { name, rows: '4' }, current ?? '')
      : h('input', { type: secret ? 'password' : 'text', name, value: current ?? '', autocomplete: 'off', maxlength: schema.maxLength })
    return { element: field(label, input, hint), read: () => (input.value === '' ? undefined : input.value) }
  }
  if (type === 'object' && schema.properties) {
    return objectControls(schema, current || {}, path)
  }
  const text = h('textarea', { name, rows: '4', class: 'mono' }, current === undefined ? '' : JSON.stringify(current, null, 2))
  return {
    element: field(`${label} (JSON)`, text, hint),
    read: () => {
      if (!text.value.trim()) return undefined
      try { return JSON.parse(text.value) } catch { throw new Error(`${label}: not valid JSON`) }
    },
  }
}
