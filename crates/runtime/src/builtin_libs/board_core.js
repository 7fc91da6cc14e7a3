// Leader boards kept in one bot property each (`TopBoardLib_board_<name>`: entries sorted by
// value, highest first, at most `maxCount`), shared by the built-in TopBoardLib and ReferralLib.
var __bbBoard = (function () {
  function propName(board) { return 'TopBoardLib_board_' + board; }

  function load(board) {
    var entries = Bot.getProperty(propName(board));
    return Array.isArray(entries) ? entries : [];
  }

  function same(a, b) {
    if (a.id !== undefined && a.id !== null && b.id !== undefined && b.id !== null) { return String(a.id) === String(b.id); }
    return String(a.tgId) === String(b.tgId);
  }

  // Puts the entry (with its new value) on the board; returns the board.
  function put(board, entry, maxCount) {
    var entries = load(board).filter(function (e) { return !same(e, entry); });
    entries.push(entry);
    entries.sort(function (a, b) { return b.value - a.value; });
    entries = entries.slice(0, maxCount);
    Bot.setProperty(propName(board), entries, 'json');
    return entries;
  }

  function entryFor(u, value, fields) {
    var entry = {
      id: u.id === undefined ? null : u.id,
      tgId: u.telegramid !== undefined ? u.telegramid : (u.tgId === undefined ? null : u.tgId),
      first_name: u.first_name || null,
      last_name: u.last_name || null,
      username: u.username || null,
      language_code: u.language_code || null,
      value: value
    };
    if (fields && typeof fields === 'object') { entry.fields = fields; }
    return entry;
  }

  function reset(board) { Bot.deleteProperty(propName(board)); }

  return { load: load, put: put, reset: reset, entryFor: entryFor, same: same, propName: propName };
})();
