// The BJS prelude: evaluated in every run before the bot's code. It defines the API objects
// (Bot, User, Chat, Api, HTTP, AdminPanel) as proxies whose methods call the host, the handler
// registry (`on`), libraries (`publish`, `Libs`), and the dispatcher the engine calls.
var __handlers = {};
var __libName = null;
var Libs = {};

function on(name, fn) {
  if (typeof fn !== 'function') { throw new TypeError('on(name, fn): fn must be a function'); }
  name = String(name);
  (__handlers[name] = __handlers[name] || []).push(fn);
}

function publish(exports) {
  if (__libName === null) { throw new Error('publish() can only be called by a library'); }
  var lib = Libs[__libName] = Libs[__libName] || {};
  for (var k in exports) { lib[k] = exports[k]; }
}

function __libFailure(name, e) {
  var failure = new Error('Library ' + name + ' failed to load: ' + (e && e.message !== undefined ? e.message : String(e)));
  if (e && e.stack) { failure.stack = e.stack; }
  return failure;
}

function __call(name, args) {
  var answer = JSON.parse(__host(name, JSON.stringify(args)));
  if (answer.run) { return __nested(answer.run); }
  return answer.v;
}

function __compile(code) {
  return (0, eval)('(function(){\n' + code + '\n})');
}

function __nested(run) {
  var saved = {};
  var k;
  for (k in run.globals) { saved[k] = globalThis[k]; globalThis[k] = run.globals[k]; }
  try { return __compile(run.code)(); }
  finally { for (k in saved) { globalThis[k] = saved[k]; } }
}

function __api(prefix) {
  return new Proxy({}, {
    get: function (target, key) {
      if (typeof key !== 'string' || key === 'toJSON' || key === 'then' || key === 'constructor') { return undefined; }
      if (!(key in target)) {
        target[key] = function () { return __call(prefix + '.' + key, Array.prototype.slice.call(arguments)); };
      }
      return target[key];
    }
  });
}

var Bot = __api('Bot');
var User = __api('User');
var Chat = __api('Chat');
var Api = __api('Api');
var HTTP = __api('HTTP');
var AdminPanel = __api('AdminPanel');
var inspect = function (value) { return JSON.stringify(value, null, 2); };

// Web apps: `render` fills a template's `<% expression %>` tags here, in the run, with `options`
// in scope; the host keeps what is rendered for the page.
var WebApp = {
  getUrl: function (spec) { return __call('WebApp.getUrl', [spec || {}]); },
  render: function (spec) {
    spec = spec || {};
    var content = spec.content;
    var mime = spec.mime_type;
    if (spec.template !== undefined && spec.template !== null) {
      var text = __call('WebApp.template', [String(spec.template)]);
      var opts = spec.options || {};
      content = String(text).replace(/<%([\s\S]*?)%>/g, function (_, code) {
        var value = (new Function('options', 'return (' + code + ');'))(opts);
        return value === undefined || value === null ? '' : String(value);
      });
    } else if (content !== null && typeof content === 'object') {
      content = JSON.stringify(content);
      mime = mime || 'application/json';
    }
    return __call('WebApp.render', [{ content: content === undefined || content === null ? '' : String(content), mime_type: mime || 'text/html' }]);
  }
};

// Runs the handlers of `event`, then the body: a matched command's code, or for an unmatched
// message the handlers of its first word, then those of '*', then the '*' command.
function __dispatch(event, data, body) {
  var i, hs;
  if (event !== null) {
    hs = __handlers[event] || [];
    for (i = 0; i < hs.length; i++) {
      if (hs[i](data) === false) { return 'stopped'; }
    }
  }
  if (body.kind === 'command') { (body.compiled || __compile(body.code))(); return 'command'; }
  if (body.kind === 'unmatched') {
    hs = __handlers[body.word] || __handlers['*'] || [];
    if (hs.length > 0) {
      for (i = 0; i < hs.length; i++) { hs[i](data); }
      return 'hook';
    }
    if (body.code !== null) { (body.compiled || __compile(body.code))(); return 'master'; }
    return 'unmatched';
  }
  return 'event';
}
