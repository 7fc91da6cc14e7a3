// Points: counters of anything (coins, points, lives) for a user or for the whole bot, kept in
// properties. Libs.Points.user("coins").add(5); Libs.Points.user("coins").value();
// Libs.Points.bot("jackpot").take(10); Libs.Points.user("coins", other_user_id).transfer(...)

function store(scope, name, userId) {
  var key = 'points_' + name;
  var spec = function (extra) {
    var s = { name: key };
    if (userId) { s.user_id = userId; }
    for (var k in extra) { s[k] = extra[k]; }
    return s;
  };
  var get = function () {
    var v = scope === 'user' ? User.getProp(spec({})) : Bot.getProp(spec({}));
    return typeof v === 'number' ? v : 0;
  };
  var set = function (value) {
    if (typeof value !== 'number' || !isFinite(value)) { throw new Error('Points: ' + name + ' must be a number'); }
    var s = spec({ value: value, type: 'float' });
    if (scope === 'user') { User.setProp(s); } else { Bot.setProp(s); }
    return value;
  };
  return {
    name: name,
    value: get,
    set: set,
    have: function (amount) { return get() >= amount; },
    add: function (amount) { return set(get() + amount); },
    take: function (amount) {
      var now = get();
      if (now < amount) { throw new Error('Points: not enough ' + name + ' (' + now + ' < ' + amount + ')'); }
      return set(now - amount);
    },
    transferTo: function (other, amount) {
      this.take(amount);
      other.add(amount);
      return true;
    }
  };
}

publish({
  user: function (name, userId) { return store('user', name, userId); },
  bot: function (name) { return store('bot', name); }
});
