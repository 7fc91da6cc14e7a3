// botyard Kore.ai script prelude. Before it runs, the host defines the global `context` (the
// JSON the engine passed to `DialogHost::run_script`). After the script, the host returns
// `__koreResult()` (a JSON string: {"context": …, "printed": […]}) to the engine.
var __printed = [];
function print(value) {
  __printed.push(value === undefined || value === null ? '' : (typeof value === 'string' ? value : JSON.stringify(value)));
}
if (typeof context !== 'object' || context === null) { context = {}; }
context.session = context.session || {};
context.entities = context.entities || {};
function __koreStore(name) {
  var data = context.session[name] = context.session[name] || {};
  var hidden = function (key, fn) { Object.defineProperty(data, key, { value: fn, enumerable: false, configurable: true, writable: true }); };
  hidden('put', function (key, value, ttl) { context.session[name][key] = value; });
  hidden('get', function (key) { return key === undefined ? context.session[name] : context.session[name][key]; });
  hidden('delete', function (key) { delete context.session[name][key]; });
  return data;
}
var BotUserSession = __koreStore('BotUserSession');
var UserSession = __koreStore('UserSession');
var BotContext = __koreStore('BotContext');
var UserContext = __koreStore('UserContext');
var content = context.content || {};
var env = context.env || {};
var contextTags = {
  add: function (tag) { context.contextTags = context.contextTags || []; if (context.contextTags.indexOf(tag) < 0) context.contextTags.push(tag); },
  get: function () { return context.contextTags || []; },
  delete: function (tag) { context.contextTags = (context.contextTags || []).filter(function (t) { return t !== tag; }); }
};
var koreDebugger = { log: function () {} };
function __koreResult() {
  return JSON.stringify({ context: context, printed: __printed });
}
