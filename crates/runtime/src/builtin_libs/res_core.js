// botyard's resources (balances, game resources, cooldowns) with growth, shared by its built-in
// ResourcesLib and CooldownLib. Written for botyard from Bots.Business's documentation.
//
// A resource is a bot property `ResourcesLib_<owner kind><owner id>_<name>` (a float). Its growth
// is the JSON property `<that name>_growth`; the value is computed when read, from the value
// stored when the growth last started or the resource last changed (the "base") and the number of
// whole intervals elapsed since then. Every change first folds the elapsed intervals in, so growth
// is never lost nor counted twice, and the interval in progress keeps its progress.
var __bbRes = (function () {
  var PREFIX = 'ResourcesLib_';
  var KINDS = { simple: 'simple', percent: 'percent', compound: 'compound' };

  function fail(text) { throw new Error('ResourcesLib: ' + text); }

  function toNumber(value, what) {
    if (typeof value === 'string' && value.trim() !== '' && isFinite(Number(value))) {
      value = Number(value);
    }
    if (typeof value !== 'number' || !isFinite(value)) {
      fail((what || 'value') + ' must be a number, not ' + (typeof value === 'string' ? '"' + value + '"' : String(value)));
    }
    return value;
  }

  function optionalNumber(value, what) {
    if (value === undefined || value === null || value === '') { return null; }
    return toNumber(value, what);
  }

  // An owner id as a key part: numbers and numeric strings alike ("123", 123, " 123").
  function ownerKey(id, what) {
    if (id === undefined || id === null || String(id).trim() === '') { fail(what + ' is required'); }
    var text = String(id).trim();
    if (/^-?\d+$/.test(text) && Math.abs(Number(text)) <= 9007199254740991) { return String(Number(text)); }
    return text;
  }

  function nameOf(name) {
    if (name === undefined || name === null || String(name) === '') { fail('a resource needs a name'); }
    return String(name);
  }

  function readNumber(prop) {
    var v = Bot.getProperty(prop);
    if (v === undefined || v === null || v === '') { return 0; }
    var n = typeof v === 'number' ? v : parseFloat(v);
    return isFinite(n) ? n : 0;
  }

  // The growth's result after `n` more iterations from `base`, within its limits.
  function grown(g, base, n) {
    var v;
    if (n <= 0) { return base; }
    if (g.type === KINDS.percent) {
      v = base + n * base * g.value / 100;
    } else if (g.type === KINDS.compound) {
      v = base * Math.pow(1 + g.value / 100, n);
    } else {
      v = base + n * g.value;
    }
    // A limit stops the growth in its direction; it never moves a value that is already beyond.
    if (v > base && g.max !== null && g.max !== undefined && v > g.max) { v = base > g.max ? base : g.max; }
    if (v < base && g.min !== null && g.min !== undefined && v < g.min) { v = base < g.min ? base : g.min; }
    return v;
  }

  function Growth(res) {
    this.resource = res;
  }

  Growth.prototype.propName = function () { return this.resource.propName() + '_growth'; };

  Growth.prototype.load = function () {
    var g = Bot.getProperty(this.propName());
    if (typeof g === 'string') {
      try { g = JSON.parse(g); } catch (e) { g = null; }
    }
    return g && typeof g === 'object' && g.interval > 0 ? g : null;
  };

  Growth.prototype.save = function (g) {
    if (g) { Bot.setProperty(this.propName(), g, 'json'); } else { Bot.deleteProperty(this.propName()); }
  };

  // Whole intervals elapsed and not yet folded in (0 when stopped or at its iteration limit).
  Growth.prototype.pending = function (g, now) {
    if (!g || !g.enabled) { return 0; }
    var n = Math.floor((now - g.started_at) / (g.interval * 1000));
    if (!(n > 0)) { return 0; }
    if (g.max_iterations_count !== null && g.max_iterations_count !== undefined) {
      n = Math.min(n, Math.max(0, g.max_iterations_count - (g.completed_iterations_count || 0)));
    }
    return n;
  };

  Growth.prototype.isFinished = function (g) {
    return !!g && g.max_iterations_count !== null && g.max_iterations_count !== undefined &&
      (g.completed_iterations_count || 0) + this.pending(g, Date.now()) >= g.max_iterations_count;
  };

  // Folds the elapsed intervals into the growth (the caller stores the new base); returns the
  // current value.
  Growth.prototype.fold = function () {
    var g = this.load();
    var base = readNumber(this.resource.propName());
    if (!g) { return base; }
    var n = this.pending(g, Date.now());
    if (n > 0) {
      var value = grown(g, base, n);
      g.completed_iterations_count = (g.completed_iterations_count || 0) + n;
      g.started_at += n * g.interval * 1000;
      this.save(g);
      return value;
    }
    return base;
  };

  Growth.prototype.start = function (type, options) {
    if (!options || typeof options !== 'object') { fail('growth needs {value, interval}'); }
    var value = options.value !== undefined ? options.value : options.percent;
    var g = {
      type: type,
      value: toNumber(value, 'growth value'),
      interval: toNumber(options.interval, 'growth interval'),
      min: optionalNumber(options.min, 'growth min'),
      max: optionalNumber(options.max, 'growth max'),
      max_iterations_count: optionalNumber(options.max_iterations_count, 'max_iterations_count'),
      completed_iterations_count: 0,
      enabled: true,
      started_at: Date.now(),
      created_at: Date.now()
    };
    if (!(g.interval > 0)) { fail('growth interval must be more than 0 seconds'); }
    // What the old growth gave so far stays.
    var current = this.fold();
    Bot.setProperty(this.resource.propName(), current, 'float');
    this.save(g);
    return true;
  };

  Growth.prototype.add = function (options) { return this.start(KINDS.simple, options); };
  Growth.prototype.addSimple = Growth.prototype.add;
  Growth.prototype.addPercent = function (options) { return this.start(KINDS.percent, options); };
  Growth.prototype.addCompoundInterest = function (options) { return this.start(KINDS.compound, options); };

  Growth.prototype.title = function () {
    var g = this.load();
    if (!g) { return ''; }
    var amount = g.type === KINDS.simple ? String(g.value) : g.value + '%';
    var text = 'add ' + amount + (g.type === KINDS.compound ? ' (compound interest)' : '') +
      ' once at ' + g.interval + ' secs';
    var limits = [];
    if (g.max !== null && g.max !== undefined) { limits.push('max: ' + g.max); }
    if (g.min !== null && g.min !== undefined) { limits.push('min: ' + g.min); }
    if (g.max_iterations_count !== null && g.max_iterations_count !== undefined) {
      limits.push('iterations: ' + g.max_iterations_count);
    }
    return limits.length ? text + ' (' + limits.join(', ') + ')' : text;
  };

  Growth.prototype.info = function () {
    var g = this.load();
    if (!g) { return {}; }
    var n = this.pending(g, Date.now());
    return {
      type: g.type,
      value: g.value,
      percent: g.type === KINDS.simple ? undefined : g.value,
      interval: g.interval,
      min: g.min,
      max: g.max,
      max_iterations_count: g.max_iterations_count,
      completed_iterations_count: (g.completed_iterations_count || 0) + n,
      enabled: !!g.enabled,
      is_completed: this.isFinished(g),
      started_at: g.created_at,
      base_value: readNumber(this.resource.propName()),
      title: this.title()
    };
  };

  Growth.prototype.isEnabled = function () {
    var g = this.load();
    return !!(g && g.enabled);
  };

  // Percent of the current interval that has passed.
  Growth.prototype.progress = function () {
    var g = this.load();
    if (!g || !g.enabled) { return 0; }
    if (this.isFinished(g)) { return 100; }
    var span = g.interval * 1000;
    var into = (Date.now() - g.started_at) % span;
    return Math.max(0, Math.min(100, into / span * 100));
  };

  // Seconds until the next iteration completes.
  Growth.prototype.willCompletedAfter = function () {
    var g = this.load();
    if (!g || !g.enabled || this.isFinished(g)) { return 0; }
    var span = g.interval * 1000;
    var into = (Date.now() - g.started_at) % span;
    return Math.max(0, (span - into) / 1000);
  };

  Growth.prototype.stop = function () {
    var current = this.fold();
    var g = this.load();
    if (!g) { return false; }
    Bot.setProperty(this.resource.propName(), current, 'float');
    g.enabled = false;
    g.stopped_at = Date.now();
    this.save(g);
    return true;
  };

  Growth.prototype.resume = function () {
    var g = this.load();
    if (!g) { return false; }
    if (!g.enabled) {
      g.enabled = true;
      g.started_at = Date.now();
      delete g.stopped_at;
      this.save(g);
    }
    return true;
  };

  Growth.prototype.remove = function () {
    var current = this.fold();
    if (!this.load()) { return false; }
    Bot.setProperty(this.resource.propName(), current, 'float');
    this.save(null);
    return true;
  };

  Growth.prototype.reset = Growth.prototype.remove;

  function Resource(kind, owner, name) {
    this.objName = kind;
    this.objID = owner;
    this.name = name;
    this.growth = new Growth(this);
  }

  Resource.prototype.propName = function () {
    return PREFIX + this.objName + this.objID + '_' + this.name;
  };

  Resource.prototype.value = function () {
    var g = this.growth.load();
    var base = readNumber(this.propName());
    return g ? grown(g, base, this.growth.pending(g, Date.now())) : base;
  };

  Resource.prototype.baseValue = function () { return readNumber(this.propName()); };

  Resource.prototype.set = function (amount) {
    amount = toNumber(amount, 'amount');
    this.growth.fold();
    Bot.setProperty(this.propName(), amount, 'float');
    return true;
  };

  Resource.prototype.have = function (amount) {
    return this.value() >= toNumber(amount, 'amount');
  };

  Resource.prototype.add = function (amount) {
    amount = toNumber(amount, 'amount');
    return this.set(this.growth.fold() + amount);
  };

  Resource.prototype.removeAnyway = function (amount) {
    amount = toNumber(amount, 'amount');
    return this.set(this.growth.fold() - amount);
  };

  Resource.prototype.remove = function (amount) {
    amount = toNumber(amount, 'amount');
    if (amount < 0) { fail('can not remove a negative amount'); }
    if (!this.have(amount)) { fail('not enough "' + this.name + '" to remove ' + amount); }
    return this.removeAnyway(amount);
  };

  function sameKind(res, other) {
    if (!(other instanceof Resource)) { fail('another resource is required'); }
    if (other.name !== res.name) { fail('can not transfer different resources: "' + res.name + '" and "' + other.name + '"'); }
  }

  Resource.prototype.transferToAnyway = function (other, amount) {
    sameKind(this, other);
    amount = toNumber(amount, 'amount');
    this.removeAnyway(amount);
    other.add(amount);
    return true;
  };

  Resource.prototype.transferTo = function (other, amount) {
    sameKind(this, other);
    amount = toNumber(amount, 'amount');
    if (amount < 0) { fail('can not transfer a negative amount'); }
    if (!this.have(amount)) { fail('not enough "' + this.name + '" to transfer ' + amount); }
    return this.transferToAnyway(other, amount);
  };

  Resource.prototype.takeFromAnother = function (other, amount) {
    sameKind(this, other);
    return other.transferTo(this, amount);
  };

  Resource.prototype.takeFromAnotherAnyway = function (other, amount) {
    sameKind(this, other);
    return other.transferToAnyway(this, amount);
  };

  // Takes `remove_amount` of this resource and gives `add_amount` of another (any name).
  Resource.prototype.exchangeTo = function (other, amounts) {
    if (!(other instanceof Resource)) { fail('another resource is required'); }
    if (!amounts || typeof amounts !== 'object') { fail('exchangeTo needs {remove_amount, add_amount}'); }
    var take = toNumber(amounts.remove_amount, 'remove_amount');
    var give = toNumber(amounts.add_amount, 'add_amount');
    if (take < 0) { fail('can not remove a negative amount'); }
    if (!this.have(take)) { fail('not enough "' + this.name + '" to exchange ' + take); }
    this.removeAnyway(take);
    other.add(give);
    return true;
  };

  Resource.prototype.resetGrowth = function () { return this.growth.remove(); };

  Resource.prototype.toString = function () { return String(this.value()); };

  function currentUser() {
    if (typeof user === 'undefined' || !user) { fail('there is no user in this run'); }
    return user.telegramid;
  }

  function currentChat() {
    if (typeof chat === 'undefined' || !chat) { fail('there is no chat in this run'); }
    return chat.chatid;
  }

  return {
    Resource: Resource,
    user: function (name, telegramid) {
      var id = arguments.length > 1 ? telegramid : currentUser();
      return new Resource('user', ownerKey(id, 'telegramid'), nameOf(name));
    },
    chat: function (name, chatid) {
      var id = arguments.length > 1 ? chatid : currentChat();
      return new Resource('chat', ownerKey(id, 'chatid'), nameOf(name));
    },
    bot: function (name) { return new Resource('bot', '', nameOf(name)); }
  };
})();
