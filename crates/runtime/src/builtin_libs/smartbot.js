// SmartBot: the answers of commands — text, buttons, keyboard, photo, alerts — kept in "lang
// files" (one per language, saved with `setupLng`) apart from the commands' code, filled with
// `{param}`s and `#/path` references to the lang file's `types`. `new SmartBot(options)` loads
// the current user's language; `handle()` answers the current command from its template.
//
// A lang file is kept in the bot's properties `SmartBot_lng_<code>` ({parts, saved_at}) and
// `SmartBot_lng_<code>_<n>` (its JSON text in parts, a property holding at most 10 KB); the
// languages set up in `SmartBot_languages` (the first is the default); a user's choice in the
// user's `SmartBot_userLng`.
(function () {
  var LANGUAGES = 'SmartBot_languages';
  var LANG = 'SmartBot_lng_';
  var USER_LANG = 'SmartBot_userLng';
  // UTF-16 units per part: at most 3 bytes each in UTF-8 (or 2 escaped), under 10 KB.
  var PART = 3000;
  // How deep values and `#/` references may nest.
  var DEPTH = 20;

  function fail(text) { throw new Error('SmartBot: ' + text); }

  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  function global(name) {
    var v = globalThis[name];
    return v === undefined ? null : v;
  }

  function present(v) { return v !== undefined && v !== null && v !== ''; }

  function languages() {
    var list = Bot.getProperty(LANGUAGES);
    return Array.isArray(list) ? list : [];
  }

  function checkCode(code) {
    if (typeof code !== 'string' || !/^[A-Za-z0-9_-]{1,20}$/.test(code)) {
      fail('a language code is 1 to 20 letters, digits, "_" or "-", not ' + JSON.stringify(code));
    }
  }

  function saveLang(code, data) {
    var text = JSON.stringify(data);
    var parts = [];
    for (var i = 0; i < text.length;) {
      var end = Math.min(i + PART, text.length);
      var last = text.charCodeAt(end - 1);
      // Never between the two halves of a surrogate pair.
      if (end < text.length && last >= 0xd800 && last < 0xdc00) { end -= 1; }
      parts.push(text.slice(i, end));
      i = end;
    }
    var old = Bot.getProperty(LANG + code);
    var before = isObject(old) && old.parts > 0 ? old.parts : 0;
    for (var n = 0; n < parts.length; n++) { Bot.setProperty(LANG + code + '_' + n, parts[n], 'text'); }
    for (n = parts.length; n < before; n++) { Bot.deleteProperty(LANG + code + '_' + n); }
    Bot.setProperty(LANG + code, { parts: parts.length, saved_at: new Date().toISOString() }, 'json');
  }

  function loadLang(code) {
    var meta = Bot.getProperty(LANG + code);
    if (!isObject(meta) || !(meta.parts > 0)) { return null; }
    var text = '';
    for (var n = 0; n < meta.parts; n++) {
      var part = Bot.getProperty(LANG + code + '_' + n);
      if (typeof part !== 'string') { return null; }
      text += part;
    }
    try { return normalized(JSON.parse(text)); } catch (e) { return null; }
  }

  function normalized(data) {
    if (!isObject(data)) { return null; }
    ['commands', 'types', 'titles'].forEach(function (k) { if (!isObject(data[k])) { data[k] = {}; } });
    return data;
  }

  // The aliases of a template: `alias` and `aliases`, texts separated by commas or lists.
  function aliasesOf(template) {
    var out = [];
    [template.alias, template.aliases].forEach(function (v) {
      if (typeof v === 'string') { out = out.concat(v.split(',')); } else if (Array.isArray(v)) { out = out.concat(v); }
    });
    return out.map(function (a) { return String(a).trim(); }).filter(function (a) { return a !== ''; });
  }

  // `{key}` (a param, or a path `a.b` into one) with its value.
  function lookup(params, key) {
    if (has(params, key)) { return { found: true, value: params[key] }; }
    var path = key.split('.');
    if (path.length < 2) { return { found: false }; }
    var v = params;
    for (var i = 0; i < path.length; i++) {
      if (v === null || typeof v !== 'object' || !has(v, path[i])) { return { found: false }; }
      v = v[path[i]];
    }
    return { found: true, value: v };
  }

  function SmartBot(opts) {
    if (!(this instanceof SmartBot)) { fail('use new SmartBot(options)'); }
    opts = opts || {};
    if (!isObject(opts)) { fail('options must be an object'); }
    this.debug = !!opts.debug;
    this.strict_params = !!opts.strict_params;
    this.defaultMarkdown = opts.defaultMarkdown === undefined ? 'Markdown' : opts.defaultMarkdown;
    this.skip_cmd_folders = Array.isArray(opts.skip_cmd_folders) ? opts.skip_cmd_folders.slice() :
      (present(opts.skip_cmd_folders) ? [opts.skip_cmd_folders] : []);
    var cmd = global('command');
    this.commandName = cmd && typeof cmd === 'object' ? (cmd.name || cmd.command) : undefined;
    this.folder = cmd && typeof cmd === 'object' ? cmd.folder : undefined;
    this.params = {};
    this.lngCode = this.getUserLang();
    this.langData = this.lngCode === undefined ? null : loadLang(this.lngCode);
    if (this.langData) { this.add(this.langData.titles); }
    if (isObject(opts.params)) { this.add(opts.params); }
    // What a run was started with (`smartBot.run`, `Bot.run`) is a param too.
    var given = global('options');
    if (isObject(given)) { this.add(given); }
    this.curCommand = this.template(this.commandName);
  }

  // The template of a command in the lang file (undefined when it has none).
  SmartBot.prototype.template = function (name) {
    if (!this.langData || name === undefined || name === null) { return undefined; }
    var commands = this.langData.commands;
    return has(commands, name) && isObject(commands[name]) ? commands[name] : undefined;
  };

  SmartBot.prototype.setupLng = function (code, data) {
    checkCode(code);
    if (!isObject(data)) { fail('setupLng(code, data): data must be an object {commands, types, titles}'); }
    saveLang(code, data);
    var list = languages();
    if (list.indexOf(code) < 0) {
      list.push(code);
      Bot.setProperty(LANGUAGES, list, 'json');
    }
    if (!this.langData && this.getUserLang() === code) {
      this.lngCode = code;
      this.langData = normalized(JSON.parse(JSON.stringify(data)));
      var titles = this.langData.titles;
      for (var k in titles) { if (has(titles, k) && !has(this.params, k)) { this.params[k] = titles[k]; } }
      this.curCommand = this.template(this.commandName);
    }
    return true;
  };

  // The user's language: theirs if it is set up, else the first set up (undefined if none is).
  SmartBot.prototype.getUserLang = function () {
    var list = languages();
    var u = global('user');
    var chosen = u ? User.getProperty(USER_LANG) : undefined;
    if (typeof chosen === 'string' && list.indexOf(chosen) >= 0) { return chosen; }
    return list[0];
  };

  // Saves the user's language; this SmartBot keeps the lang file it loaded (a new one, as in the
  // next command, loads the chosen one).
  SmartBot.prototype.setUserLang = function (code) {
    checkCode(code);
    if (languages().indexOf(code) < 0) { fail('language "' + code + '" is not set up: run setupLng("' + code + '", …) first'); }
    if (!global('user')) { fail('there is no user in this run'); }
    User.setProperty(USER_LANG, code, 'string');
    return true;
  };

  SmartBot.prototype.add = function (values) {
    if (!isObject(values)) { return this; }
    for (var k in values) { if (has(values, k)) { this.params[k] = values[k]; } }
    return this;
  };

  SmartBot.prototype.set = function (values) {
    this.params = {};
    return this.add(values);
  };

  // Replaces `{param}` in a text, or in every text of an object or array (a copy).
  SmartBot.prototype.fill = function (value) { return this._fill(value, 0, false); };

  // `loose`: a param not found stays as it is even with strict_params.
  SmartBot.prototype._fill = function (value, depth, loose) {
    var self = this;
    if (typeof value === 'string') {
      return value.replace(/\{([^{}\s]+)\}/g, function (whole, key) {
        var found = lookup(self.params, key);
        if (!found.found) {
          if (self.strict_params && !loose) {
            fail('param "' + key + '" is not found' + (self.commandName === undefined ? '' : ' (command "' + self.commandName + '")'));
          }
          return whole;
        }
        var v = found.value;
        if (v === undefined || v === null) { return ''; }
        return typeof v === 'object' ? JSON.stringify(v) : String(v);
      });
    }
    if (depth > DEPTH) { fail('values nest too deep'); }
    if (Array.isArray(value)) { return value.map(function (v) { return self._fill(v, depth + 1, loose); }); }
    if (isObject(value)) {
      var out = {};
      for (var k in value) { if (has(value, k)) { out[k] = self._fill(value[k], depth + 1, loose); } }
      return out;
    }
    return value;
  };

  // Replaces values "#/path/to/type" (a whole value) with that type of the lang file.
  SmartBot.prototype._types = function (value, depth) {
    var self = this;
    if (depth > DEPTH) { fail('the types of the lang file refer to each other too deep'); }
    if (typeof value === 'string' && value.slice(0, 2) === '#/') {
      var v = this.langData ? this.langData.types : undefined;
      var path = value.slice(2).split('/');
      for (var i = 0; i < path.length; i++) {
        if (v === null || typeof v !== 'object' || !has(v, path[i])) {
          fail('"' + value + '" is not in the types of the lang file "' + this.lngCode + '"');
        }
        v = v[path[i]];
      }
      return this._types(v, depth + 1);
    }
    if (Array.isArray(value)) { return value.map(function (v) { return self._types(v, depth + 1); }); }
    if (isObject(value)) {
      var out = {};
      for (var k in value) { if (has(value, k)) { out[k] = self._types(value[k], depth + 1); } }
      return out;
    }
    return value;
  };

  // The command whose template has `text` as an alias (exactly), or null.
  SmartBot.prototype.findAlias = function (text) {
    if (!this.langData || text === undefined || text === null) { return null; }
    text = String(text).trim();
    if (text === '') { return null; }
    var commands = this.langData.commands;
    for (var name in commands) {
      if (!has(commands, name) || !isObject(commands[name])) { continue; }
      var t = commands[name];
      var aliases = aliasesOf(this._fill(this._types({ alias: t.alias, aliases: t.aliases }, 0), 0, true));
      if (aliases.indexOf(text) >= 0) { return name; }
    }
    return null;
  };

  SmartBot.prototype.isAlias = function (text) { return this.findAlias(text) !== null; };

  // Bot.run with the current run's options passed on (and, from a button press, the pressed
  // message's id, for editing it), `params` and `options` added.
  SmartBot.prototype.run = function (spec) {
    if (typeof spec === 'string') { spec = { command: spec }; }
    if (!isObject(spec) || !present(spec.command)) { fail('run needs {command}'); }
    var passed = {};
    var k;
    var current = global('options');
    if (isObject(current)) { for (k in current) { if (has(current, k)) { passed[k] = current[k]; } } }
    var pressed = this._pressed();
    if (pressed && passed.message_id === undefined && pressed.message.message_id !== undefined) {
      passed.message_id = pressed.message.message_id;
    }
    [spec.params, spec.options].forEach(function (more) {
      if (isObject(more)) { for (k in more) { if (has(more, k)) { passed[k] = more[k]; } } }
    });
    var out = {};
    for (k in spec) { if (has(spec, k) && k !== 'params' && k !== 'options') { out[k] = spec[k]; } }
    out.command = String(spec.command);
    out.options = passed;
    this._debug('run ' + out.command);
    return Bot.run(out);
  };

  // The button press that started this run, if it is one.
  SmartBot.prototype._pressed = function () {
    var r = global('request');
    return r && typeof r === 'object' && r.data !== undefined && r.message && typeof r.message === 'object' ? r : null;
  };

  SmartBot.prototype._debug = function (text) {
    if (this.debug && global('chat')) { Api.sendMessage({ text: 'SmartBot: ' + text }); }
  };

  // Answers the current command from its template; for a message with no template of its own
  // (the master command "*"), runs the command it is an alias of. False when there was nothing
  // to do.
  SmartBot.prototype.handle = function () {
    var name = this.commandName;
    if (name === undefined) { this._debug('no command in this run'); return false; }
    if (this.folder !== undefined && this.skip_cmd_folders.indexOf(this.folder) >= 0) {
      this._debug('the folder "' + this.folder + '" of ' + name + ' is skipped');
      return false;
    }
    if (!this.langData) { this._debug('no lang file: set one up with setupLng(code, data)'); return false; }
    var template = this.template(name);
    if (template) { return this._render(template); }
    var aliased = this.findAlias(global('message'));
    if (aliased !== null && aliased !== name) { return this._runAlias(aliased); }
    this._debug('no template for "' + name + '" in the lang file "' + this.lngCode + '"');
    return false;
  };

  SmartBot.prototype._runAlias = function (name) {
    try {
      this.run({ command: name });
      return true;
    } catch (e) {
      if (String(e && e.message).indexOf('Command not found') !== 0) { throw e; }
    }
    // A command only the lang file has: its answer is given here.
    this.commandName = name;
    this.curCommand = this.template(name);
    return this._render(this.curCommand);
  };

  function inlineMarkup(buttons) {
    if (!present(buttons)) { return null; }
    if (!Array.isArray(buttons)) { fail('inline_buttons must be buttons {text, command | url} or rows of them'); }
    var rows = buttons.some(Array.isArray) ? buttons : [buttons];
    var out = [];
    rows.forEach(function (row) {
      var kept = [];
      (Array.isArray(row) ? row : [row]).forEach(function (b) {
        if (!isObject(b)) { fail('an inline button must be {text, command | url}'); }
        var title = b.text !== undefined ? b.text : b.title;
        // A button whose text came out empty (a param with nothing) is left out.
        if (!present(title)) { return; }
        var button = { text: String(title) };
        if (present(b.url)) {
          button.url = String(b.url);
        } else if (present(b.command)) {
          button.callback_data = String(b.command);
        } else {
          fail('the inline button "' + title + '" needs a command or a url');
        }
        kept.push(button);
      });
      if (kept.length > 0) { out.push(kept); }
    });
    return out.length > 0 ? { inline_keyboard: out } : null;
  }

  function replyMarkup(keyboard) {
    var rows = Array.isArray(keyboard) ? keyboard : String(keyboard).split('\n');
    var out = rows.map(function (row) {
      var buttons = Array.isArray(row) ? row : String(row).split(',');
      return buttons.map(function (b) { return { text: String(b).trim() }; }).filter(function (b) { return b.text !== ''; });
    }).filter(function (row) { return row.length > 0; });
    return { keyboard: out, resize_keyboard: true };
  }

  SmartBot.prototype._render = function (template) {
    var t = this.fill(this._types(template, 0));
    var pressed = this._pressed();
    var given = global('params');
    var edit = t.edit === true || t.edit === 'true' || /(^|\s)edit$/.test(given === null ? '' : String(given));
    var messageId = present(t.message_id) ? t.message_id :
      (present(this.params.message_id) ? this.params.message_id : (pressed ? pressed.message.message_id : undefined));
    if (pressed && present(pressed.id) && (present(t.alert) || present(t.alert_top))) {
      var top = !present(t.alert);
      Api.answerCallbackQuery({ callback_query_id: pressed.id, text: String(top ? t.alert_top : t.alert), show_alert: !top });
    }
    if (present(t.text) || present(t.photo)) {
      var text = present(t.text) ? String(t.text) : '';
      var call = {};
      if (present(t.chat_id)) { call.chat_id = t.chat_id; }
      var mode = present(t.parse_mode) ? t.parse_mode : this.defaultMarkdown;
      if (present(mode)) { call.parse_mode = mode; }
      var markup = inlineMarkup(t.inline_buttons);
      if (edit && present(messageId) && !present(t.photo)) {
        call.message_id = messageId;
        call.text = text;
        if (markup) { call.reply_markup = markup; }
        this._debug('edit ' + messageId + ' for ' + this.commandName);
        Api.editMessageText(call);
      } else if (present(t.photo)) {
        call.photo = String(t.photo);
        if (text !== '') { call.caption = text; }
        if (markup) { call.reply_markup = markup; }
        Api.sendPhoto(call);
      } else if (!markup && present(t.keyboard) && call.chat_id === undefined) {
        // A reply keyboard as Bots.Business writes it ("A, B\nC"), on every channel.
        Bot.sendKeyboard(t.keyboard, text);
      } else {
        call.text = text;
        if (markup) { call.reply_markup = markup; } else if (present(t.keyboard)) { call.reply_markup = replyMarkup(t.keyboard); }
        Api.sendMessage(call);
      }
    }
    if (present(t.run)) {
      this.run(typeof t.run === 'string' ? { command: t.run } : t.run);
    }
    return true;
  };

  globalThis.SmartBot = SmartBot;
})();
