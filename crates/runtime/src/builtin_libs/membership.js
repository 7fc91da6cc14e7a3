// MembershipChecker (also `MCL`): checks that the user joined the chats and channels set in the
// admin panel "MembershipChecker" (made by `setup()`), with Telegram's getChatMember, and runs the
// panel's callback commands (onNeedJoining, onNeedAllJoining, onJoining, onAllJoining,
// onStillJoined, onError) with `options = {chat_id, result, bb_option}` (`chats` for the "all"
// ones). What it learnt is the user property `MembershipChecker_state`.
//
// The answers of getChatMember come back as runs of the command that asked (botyard runs an Api
// callback only as a command of the bot); this library recognises those runs by their options and
// handles them instead of the command's code.
(function () {
  var PANEL = 'MembershipChecker';
  var STATE = 'MembershipChecker_state';
  var MEMBER = ['creator', 'administrator', 'member'];
  var MIN_GAP_MS = 2000;

  function fail(text) { throw new Error('MembershipChecker: ' + text); }

  function panel() {
    var v = AdminPanel.getPanelValues(PANEL);
    return v && typeof v === 'object' ? v : {};
  }

  function chatList() {
    return String(panel().chats || '').split(/[\s,;]+/).filter(function (c) { return c !== ''; });
  }

  function debug(text) {
    if (panel().debug) { Bot.sendMessage('MembershipChecker: ' + text); }
  }

  function me() {
    if (typeof user === 'undefined' || !user) { fail('there is no user in this run'); }
    return user;
  }

  function load() {
    var s = User.getProperty(STATE);
    if (!s || typeof s !== 'object') { s = {}; }
    if (!s.chats || typeof s.chats !== 'object') { s.chats = {}; }
    return s;
  }

  function save(state) { User.setProperty(STATE, state, 'json'); }

  function runCallback(name, options) {
    var command = panel()[name];
    if (!command) { return false; }
    debug('run ' + name + ': ' + command);
    Bot.run({ command: String(command), options: options });
    return true;
  }

  function setup() {
    var callback = function (name, text) {
      return { name: name, title: name, description: text, type: 'string', placeholder: '/' + name };
    };
    AdminPanel.setPanel({
      panel_name: PANEL,
      data: {
        title: 'Membership checker',
        description: 'Chats and channels users must join, and the commands to run',
        icon: 'person-add',
        fields: [
          { name: 'chats', title: 'Chats and channels', description: 'comma separated: @channel, @group, -100123456', type: 'string', placeholder: '@channel, @chat' },
          { name: 'checkTime', title: 'Checking delay', description: 'minutes between two checks by handle()', type: 'integer', value: 20 },
          callback('onNeedJoining', 'the user still needs to join a chat (runs per chat)'),
          callback('onNeedAllJoining', 'the user still needs to join chats (runs once)'),
          callback('onJoining', 'the user just joined a chat (runs per chat)'),
          callback('onAllJoining', 'the user just joined all chats'),
          callback('onStillJoined', 'the user is still in all chats (after check())'),
          callback('onError', 'a check failed'),
          { name: 'debug', title: 'Debug info', description: 'send what the checker does to the chat', type: 'checkbox', value: false }
        ]
      }
    });
    return true;
  }

  function onTelegram() {
    return typeof chat !== 'undefined' && chat && chat.channel === 'telegram';
  }

  function start(kind, passed, gap) {
    var u = me();
    var chats = chatList();
    if (chats.length === 0) { debug('no chats to check: fill the admin panel'); return false; }
    if (!onTelegram()) { debug('memberships can be checked on Telegram only'); return false; }
    var state = load();
    var now = Date.now();
    if (state.last_check && now - state.last_check < gap) { return false; }
    var asking = typeof command !== 'undefined' && command && command.name;
    if (!asking) { fail('check() and handle() need to run in a command'); }
    state.last_check = now;
    state.round = { id: now, kind: kind, total: chats.length, done: 0, joined: [], newly: [], missing: [] };
    save(state);
    chats.forEach(function (c) {
      Api.getChatMember({
        chat_id: c,
        user_id: u.telegramid,
        on_result: asking,
        on_error: asking,
        bb_options: { __mcl: { round: now, chat_id: c, kind: kind }, bb_option: passed === undefined ? null : passed }
      });
    });
    debug('checking ' + chats.join(', '));
    return true;
  }

  // An answer of getChatMember.
  function onAnswer(answer) {
    var info = answer.__mcl;
    var c = info.chat_id;
    var passed = answer.bb_option;
    var state = load();
    var before = state.chats[c] ? state.chats[c].joined : undefined;
    var round = state.round && state.round.id === info.round ? state.round : null;
    var joined = null;
    if (answer.ok) {
      var status = answer.result && answer.result.status;
      joined = MEMBER.indexOf(status) >= 0 || (status === 'restricted' && answer.result.is_member === true);
      state.chats[c] = { joined: joined, status: status, at: Date.now() };
      debug(c + ': ' + status);
      if (joined && before !== true) {
        runCallback('onJoining', { chat_id: c, result: answer.result, bb_option: passed });
      } else if (!joined) {
        runCallback('onNeedJoining', { chat_id: c, result: answer.result, bb_option: passed });
      }
    } else {
      debug(c + ': ' + answer.description);
      runCallback('onError', { chat_id: c, error: answer.description, bb_option: passed });
    }
    if (round) {
      round.done += 1;
      if (joined === true) {
        round.joined.push(c);
        if (before !== true) { round.newly.push(c); }
      } else if (joined === false) {
        round.missing.push(c);
      }
      if (round.done >= round.total) {
        var all = round.joined.length === round.total;
        if (all && round.newly.length > 0) {
          runCallback('onAllJoining', { chats: round.joined, bb_option: passed });
        } else if (all && round.kind === 'check') {
          runCallback('onStillJoined', { chats: round.joined, bb_option: passed });
        }
        if (round.missing.length > 0) {
          runCallback('onNeedAllJoining', { chats: round.missing, bb_option: passed });
        }
        state.round = null;
      }
    }
    save(state);
  }

  function isMember(chatId) {
    var state = load();
    if (chatId !== undefined && chatId !== null) {
      var known = state.chats[String(chatId)];
      return !!(known && known.joined);
    }
    return chatList().every(function (c) { return !!(state.chats[c] && state.chats[c].joined); });
  }

  function getNotJoinedChats() {
    var state = load();
    return chatList().filter(function (c) { return !(state.chats[c] && state.chats[c].joined); }).join(', ');
  }

  if (typeof options !== 'undefined' && options && typeof options === 'object' && options.__mcl &&
      typeof options.__mcl === 'object' && 'ok' in options) {
    var answer = options;
    globalThis.__dispatch = function () { onAnswer(answer); return 'MembershipChecker'; };
  }

  publish({
    setup: setup,
    check: function (passed) { return start('check', passed, MIN_GAP_MS); },
    handle: function (passed) {
      var raw = panel().checkTime;
      var minutes = raw === undefined || raw === null || raw === '' ? 20 : Number(raw);
      var gap = (minutes >= 0 ? minutes : 20) * 60000;
      return start('handle', passed, Math.max(gap, MIN_GAP_MS));
    },
    isMember: isMember,
    getChats: function () { return chatList().join(', '); },
    getNotJoinedChats: getNotJoinedChats
  });
})();
