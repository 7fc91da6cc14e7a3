// Lists of users kept in bot properties, shared by the built-in ReferralLib and List. A list is
// the JSON property `<key>` ({created_at, updated_at, count, sizes}) and pages `<key>_p<n>` of at
// most 20 users each (a property holds at most 10 KB), so a list can grow without limit and
// reading one page of it reads only the properties that page needs.
var __bbList = (function () {
  var PER_STORED_PAGE = 20;

  function fail(text) { throw new Error('List: ' + text); }

  // A user as lists keep it.
  function record(u) {
    if (!u || typeof u !== 'object') { fail('need a user'); }
    var out = { id: u.id === undefined ? null : u.id, telegramid: u.telegramid === undefined ? null : u.telegramid };
    ['first_name', 'last_name', 'username', 'language_code'].forEach(function (k) {
      if (u[k] !== undefined && u[k] !== null && u[k] !== '') { out[k] = u[k]; }
    });
    return out;
  }

  function sameUser(a, b) {
    if (a.id !== undefined && a.id !== null && b.id !== undefined && b.id !== null) { return String(a.id) === String(b.id); }
    return a.telegramid !== undefined && a.telegramid !== null && String(a.telegramid) === String(b.telegramid);
  }

  function Store(key) { this.key = key; }

  Store.prototype.meta = function () {
    var m = Bot.getProperty(this.key);
    return m && typeof m === 'object' && m.sizes ? m : null;
  };

  Store.prototype.saveMeta = function (m) {
    m.updated_at = new Date().toISOString();
    Bot.setProperty(this.key, m, 'json');
  };

  Store.prototype.page = function (i) {
    var p = Bot.getProperty(this.key + '_p' + i);
    return Array.isArray(p) ? p : [];
  };

  Store.prototype.savePage = function (i, items) {
    if (items.length === 0) { Bot.deleteProperty(this.key + '_p' + i); } else { Bot.setProperty(this.key + '_p' + i, items, 'json'); }
  };

  Store.prototype.create = function () {
    var m = this.meta();
    if (m) { return m; }
    var now = new Date().toISOString();
    m = { created_at: now, updated_at: now, count: 0, sizes: [] };
    this.saveMeta(m);
    return m;
  };

  Store.prototype.remove = function () {
    var m = this.meta();
    if (!m) { return false; }
    for (var i = 0; i < m.sizes.length; i++) {
      if (m.sizes[i] > 0) { Bot.deleteProperty(this.key + '_p' + i); }
    }
    Bot.deleteProperty(this.key);
    return true;
  };

  // Where a user is: {page, index, item}, or null.
  Store.prototype.find = function (u) {
    var m = this.meta();
    if (!m) { return null; }
    for (var i = 0; i < m.sizes.length; i++) {
      if (!m.sizes[i]) { continue; }
      var items = this.page(i);
      for (var j = 0; j < items.length; j++) {
        if (sameUser(items[j], u)) { return { page: i, index: j, item: items[j] }; }
      }
    }
    return null;
  };

  // Adds a user at the end (unless `unchecked`, not when already there); true when added.
  Store.prototype.add = function (u, unchecked) {
    var item = record(u);
    if (!unchecked && this.find(item)) { return false; }
    var m = this.create();
    var last = m.sizes.length - 1;
    if (last < 0 || m.sizes[last] >= PER_STORED_PAGE) {
      m.sizes.push(0);
      last += 1;
    }
    var items = this.page(last);
    item.added_at = new Date().toISOString();
    items.push(item);
    this.savePage(last, items);
    m.sizes[last] = items.length;
    m.count += 1;
    this.saveMeta(m);
    return true;
  };

  Store.prototype.reject = function (u) {
    var found = this.find(u);
    if (!found) { return false; }
    var m = this.meta();
    var items = this.page(found.page);
    items.splice(found.index, 1);
    this.savePage(found.page, items);
    m.sizes[found.page] = items.length;
    m.count = Math.max(0, m.count - 1);
    this.saveMeta(m);
    return true;
  };

  Store.prototype.clear = function () {
    var m = this.meta();
    if (!m) { return false; }
    for (var i = 0; i < m.sizes.length; i++) {
      if (m.sizes[i] > 0) { Bot.deleteProperty(this.key + '_p' + i); }
    }
    m.sizes = [];
    m.count = 0;
    this.saveMeta(m);
    return true;
  };

  // Users `from` (included) to `to` (excluded), oldest first.
  Store.prototype.slice = function (from, to) {
    var m = this.meta();
    var out = [];
    if (!m) { return out; }
    var offset = 0;
    for (var i = 0; i < m.sizes.length && offset < to; i++) {
      var size = m.sizes[i] || 0;
      if (size > 0 && offset + size > from) {
        var items = this.page(i);
        for (var j = 0; j < items.length; j++) {
          if (offset + j >= from && offset + j < to) { out.push(items[j]); }
        }
      }
      offset += size;
    }
    return out;
  };

  // What scripts see: Bots.Business's List of users (`exist`, `count`, `created_at`, `page`,
  // `per_page`, `total_pages`, `order_ascending`, `getUsers()`, `addUser()`, …).
  function List(options) {
    if (!(this instanceof List)) { return new List(options); }
    options = options || {};
    if (options.name === undefined || options.name === null || String(options.name) === '') { fail('need name'); }
    this.name = String(options.name);
    var owner = options.user_id !== undefined ? options.user_id : (options.user ? options.user.id : undefined);
    this.user_id = owner === undefined || owner === null ? null : owner;
    var key = options.key || ('List_' + (this.user_id === null ? '' : 'u' + this.user_id + '_') + this.name);
    Object.defineProperty(this, 'store', { value: new Store(key), enumerable: false });
    this.page = 1;
    this.per_page = 100;
    this.order_ascending = true;
    this.recount_delay = { total: 0, current_value: 0, lag: 1000 };
    this.reload();
  }

  List.prototype.reload = function () {
    var m = this.store.meta();
    this.exist = !!m;
    this.count = m ? m.count : 0;
    this.created_at = m ? m.created_at : null;
    this.updated_at = m ? m.updated_at : null;
    this.total_pages = Math.max(1, Math.ceil(this.count / Math.max(1, this.per_page)));
    return this;
  };

  List.prototype.create = function () { this.store.create(); this.reload(); return true; };
  List.prototype.remove = function () { var done = this.store.remove(); this.reload(); return done; };
  List.prototype.addUser = function (u) { var done = this.store.add(u, false); this.reload(); return done; };
  List.prototype.rejectUser = function (u) { var done = this.store.reject(u); this.reload(); return done; };
  List.prototype.rejectAllUsers = function () { var done = this.store.clear(); this.reload(); return done; };
  List.prototype.rejectAll = List.prototype.rejectAllUsers;
  List.prototype.removeAll = List.prototype.rejectAllUsers;
  List.prototype.haveUser = function (u) { return !!this.store.find(u); };
  List.prototype.getUser = function (u) { var found = this.store.find(u); return found ? found.item : undefined; };

  List.prototype.getUsers = function () {
    this.reload();
    var perPage = Math.max(1, Math.floor(this.per_page) || 100);
    var page = Math.max(1, Math.floor(this.page) || 1);
    this.total_pages = Math.max(1, Math.ceil(this.count / perPage));
    var from = (page - 1) * perPage;
    if (this.order_ascending === false) {
      var end = this.count - from;
      return this.store.slice(Math.max(0, end - perPage), Math.max(0, end)).reverse();
    }
    return this.store.slice(from, from + perPage);
  };

  // Lists of properties are not kept by botyard: a list has users only.
  List.prototype.get = function () { return []; };
  List.prototype.recount = function (options) {
    this.reload();
    if (options && options.onComplete) { Bot.run({ command: options.onComplete, options: { list: this.name } }); }
    return true;
  };
  List.prototype.isRecountNeeded = function () { return false; };

  return { Store: Store, List: List, record: record, sameUser: sameUser };
})();
