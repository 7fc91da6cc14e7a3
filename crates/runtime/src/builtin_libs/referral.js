// ReferralLib (also `RefLib`): referral links and tracking. A user's link is
// https://t.me/<bot.name>?start=<prefix><user.telegramid> ("user" by default); `track()` on
// /start records who brought a new user. Kept in properties: the bot's `REFLIB_user<telegramid>`
// (each user as links name them), the user's `REFLIB_attracted_by_user` and `REFLIB_old_user`,
// each user's list of attracted users (`REFLIB_refList<telegramid>`, see list_core.js), and the
// top list of attracting users (a board, see board_core.js).
(function () {
  var PREFIX = 'REFLIB_';
  var TOP_BOARD = PREFIX + 'TopList';
  var trackOptions = {};

  function fail(text) { throw new Error('RefLib: ' + text); }

  function me() {
    if (typeof user === 'undefined' || !user) { fail('there is no user in this run'); }
    return user;
  }

  function emit(name, arg) {
    var fn = trackOptions[name];
    if (typeof fn === 'function') { fn(arg); return true; }
    return false;
  }

  function debug(text) {
    if (trackOptions.debug) { Bot.sendMessage('RefLib: ' + text); }
  }

  function idText(id) { return String(id).trim(); }

  // Keeps the user as links name them (only when it changed).
  function remember(u) {
    var rec = __bbList.record(u);
    var prop = PREFIX + 'user' + idText(u.telegramid);
    var known = Bot.getProperty(prop);
    if (!known || JSON.stringify(known) !== JSON.stringify(rec)) { Bot.setProperty(prop, rec, 'json'); }
    return rec;
  }

  function storedPrefix() {
    var p = Bot.getProperty(PREFIX + 'refList_link_prefix');
    return typeof p === 'string' ? p : 'user';
  }

  function refStore(telegramid) {
    return new __bbList.Store(PREFIX + 'refList' + idText(telegramid));
  }

  // The deep link's payload when this is /start with one.
  function startParam() {
    var text = typeof message === 'string' ? message.trim() : '';
    var first = text.split(/\s+/)[0].split('@')[0];
    var isStart = first === '/start' || (typeof command !== 'undefined' && command && command.name === '/start');
    if (!isStart || typeof params !== 'string') { return ''; }
    return params.trim();
  }

  function attract(u, by) {
    User.setProperty(PREFIX + 'attracted_by_user', by, 'json');
    var store = refStore(by.telegramid);
    store.add(u, true);
    var count = store.meta().count;
    var maxCount = Math.min(Math.max(1, Math.floor(Number(trackOptions.topBoardMaxCount) || 10)), 25);
    __bbBoard.put(TOP_BOARD, __bbBoard.entryFor(by, count), maxCount);
    debug('attracted by ' + by.telegramid);
    var attractor = JSON.parse(JSON.stringify(by));
    attractor.chatId = attractor.telegramid;
    if (!emit('onAttracted', attractor) && !emit('onAtracted', attractor)) { emit('onAtractedByUser', attractor); }
  }

  // track({onTouchOwnLink, onAlreadyAttracted, onAttracted, linkPrefix, debug, topBoardMaxCount})
  function track(options) {
    trackOptions = options || {};
    var u = me();
    var rec = remember(u);
    if (User.getProperty(PREFIX + 'attracted_by_user') || User.getProperty(PREFIX + 'old_user')) {
      debug('already attracted');
      return emit('onAlreadyAttracted');
    }
    var param = startParam();
    var prefix = trackOptions.linkPrefix !== undefined && trackOptions.linkPrefix !== null
      ? String(trackOptions.linkPrefix) : storedPrefix();
    if (param && param.indexOf(prefix) === 0) {
      var id = param.slice(prefix.length);
      if (/^-?\d+$/.test(id)) {
        if (id === idText(rec.telegramid)) {
          debug('own link');
          return emit('onTouchOwnLink');
        }
        var by = Bot.getProperty(PREFIX + 'user' + id);
        if (by && typeof by === 'object') {
          attract(rec, by);
          return true;
        }
        debug('no user ' + id + ' has a link');
      }
    }
    User.setProperty(PREFIX + 'old_user', true, 'boolean');
    return false;
  }

  function getLink(botName, prefix) {
    var rec = remember(me());
    if (prefix !== undefined && prefix !== null) {
      prefix = String(prefix);
      if (prefix !== storedPrefix()) { Bot.setProperty(PREFIX + 'refList_link_prefix', prefix, 'string'); }
    } else {
      prefix = storedPrefix();
    }
    var name = botName || bot.name;
    return 'https://t.me/' + name + '?start=' + prefix + rec.telegramid;
  }

  function ownerId(telegramid) {
    return telegramid === undefined || telegramid === null ? me().telegramid : telegramid;
  }

  // The users a user attracted: a List (`getUsers()`, `count`, `exist`, `created_at`, pages).
  function getRefList(telegramid) {
    return new __bbList.List({ name: PREFIX + 'refList' + idText(ownerId(telegramid)), key: PREFIX + 'refList' + idText(ownerId(telegramid)) });
  }

  function getRefCount(telegramid) {
    var m = refStore(ownerId(telegramid)).meta();
    return m ? m.count : 0;
  }

  function getAttractedBy() {
    var by = User.getProperty(PREFIX + 'attracted_by_user');
    if (!by || typeof by !== 'object') { return null; }
    by.chatId = by.telegramid;
    return by;
  }

  // The users who attracted the most, highest first: `get()` gives [{user, value}].
  function getTopList() {
    return {
      name: TOP_BOARD,
      exist: true,
      order_ascending: false,
      get: function () {
        var entries = __bbBoard.load(TOP_BOARD).map(function (e) {
          return {
            name: PREFIX + 'refCount',
            value: e.value,
            user: { id: e.id, telegramid: e.tgId, first_name: e.first_name, last_name: e.last_name, username: e.username }
          };
        });
        return this.order_ascending === true ? entries.reverse() : entries;
      }
    };
  }

  // Forgets how the current user came (they can be attracted again).
  function clearRef() {
    var u = me();
    var by = getAttractedBy();
    if (by) {
      var store = refStore(by.telegramid);
      if (store.reject(__bbList.record(u))) {
        __bbBoard.put(TOP_BOARD, __bbBoard.entryFor(by, store.meta().count), 25);
      }
    }
    User.deleteProperty(PREFIX + 'attracted_by_user');
    User.deleteProperty(PREFIX + 'old_user');
    return true;
  }

  publish({
    track: track,
    getLink: getLink,
    getRefList: getRefList,
    getRefCount: getRefCount,
    getAttractedBy: getAttractedBy,
    getTopList: getTopList,
    clearRef: clearRef,
    // The first version's names.
    currentUser: {
      track: track,
      getRefLink: getLink,
      attractedByUser: getAttractedBy,
      refList: {
        get: function () { return getRefList().getUsers(); },
        clear: clearRef
      }
    },
    topList: { get: function () { return getTopList().get(); } }
  });
})();
