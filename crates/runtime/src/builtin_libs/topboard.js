// TopBoardLib: leader boards of user scores. A user's score on a board is the user property
// `getUserPropName(boardName)`; the board keeps the best `maxCount` (10 by default, at most 25).
(function () {
  var MAX_COUNT = 25;

  function fail(text) { throw new Error('TopBoardLib: ' + text); }

  function boardOf(name) {
    return name === undefined || name === null || name === '' ? 'default' : String(name);
  }

  function getUserPropName(boardName) { return 'TopBoardLib_score_' + boardOf(boardName); }

  function readScore(prop, who) {
    var v = who ? User.getProperty({ name: prop, user_id: who }) : User.getProperty(prop);
    var n = typeof v === 'number' ? v : parseFloat(v);
    return isFinite(n) ? n : 0;
  }

  // addScore({value, boardName, maxCount, fields}) for the current user, or with the user's
  // `id` (and `telegramid`, names) for another user.
  function addScore(params) {
    if (!params || typeof params !== 'object') { fail('addScore needs {value}'); }
    var value = typeof params.value === 'string' ? Number(params.value) : params.value;
    if (typeof value !== 'number' || !isFinite(value)) { fail('value must be a number'); }
    var board = boardOf(params.boardName);
    var maxCount = params.maxCount === undefined ? 10 : Math.floor(Number(params.maxCount));
    if (!(maxCount > 0)) { fail('maxCount must be a positive number'); }
    maxCount = Math.min(maxCount, MAX_COUNT);
    var another = params.id !== undefined || params.telegramid !== undefined;
    var who = another ? params : (typeof user !== 'undefined' ? user : null);
    if (!who) { fail('there is no user in this run'); }
    var prop = getUserPropName(board);
    var total;
    if (another && (who.id === undefined || who.id === null)) {
      // Without the user's id only the board knows the score.
      var shown = __bbBoard.load(board).filter(function (e) { return String(e.tgId) === String(who.telegramid); })[0];
      total = (shown ? shown.value : 0) + value;
    } else if (another && !(typeof user !== 'undefined' && user && String(user.id) === String(who.id))) {
      total = readScore(prop, who.id) + value;
      User.setProperty({ name: prop, value: total, type: 'float', user_id: who.id });
    } else {
      total = readScore(prop, null) + value;
      User.setProperty(prop, total, 'float');
    }
    __bbBoard.put(board, __bbBoard.entryFor(who, total, params.fields), maxCount);
    return total;
  }

  function getBoard(boardName) { return __bbBoard.load(boardOf(boardName)); }

  function resetBoard(boardName) { __bbBoard.reset(boardOf(boardName)); return true; }

  publish({
    addScore: addScore,
    getBoard: getBoard,
    resetBoard: resetBoard,
    getUserPropName: getUserPropName
  });
})();
