// CooldownLib: named cooldowns of a user, a chat or the bot, kept as resources (see res_core.js)
// that count down by one every second to 0.
var __cooldown = (function () {
  var PREFIX = 'CooldownLib-';

  function fail(text) { throw new Error('CooldownLib: ' + text); }

  function load(scope, name) {
    if (name === undefined || name === null || String(name) === '') { fail('need param name'); }
    var resName = PREFIX + name;
    if (scope === 'user') { return __bbRes.user(resName); }
    if (scope === 'chat') { return __bbRes.chat(resName); }
    return __bbRes.bot(resName);
  }

  // Starts the cooldown afresh: `time` seconds, counting down from now.
  function restart(res, time) {
    res.set(time);
    res.growth.add({ value: -1, interval: 1, min: 0 });
  }

  function watch(scope, options) {
    if (!options || typeof options !== 'object') { fail('watch needs {name, time, onEnding}'); }
    if (!options.name) { fail('need param name'); }
    var time = Number(options.time);
    if (!(time > 0)) { fail('need param time (seconds)'); }
    if (typeof options.onEnding !== 'function') { fail('need param onEnding'); }
    var res = load(scope, options.name);
    if (!res.growth.isEnabled()) {
      // The first watch starts the cooldown.
      restart(res, time);
      if (typeof options.onStarting === 'function') { return options.onStarting(); }
    }
    var left = res.value();
    if (left > 0) {
      if (typeof options.onWaiting === 'function') { return options.onWaiting(left); }
      return;
    }
    // Over: the callback says (true) whether the cooldown starts again.
    var again = options.onEnding(time);
    if (again) { restart(res, time); }
    return again;
  }

  return { watch: watch, load: load };
})();

publish({
  user: {
    watch: function (options) { return __cooldown.watch('user', options); },
    getCooldown: function (name) { return __cooldown.load('user', name); }
  },
  chat: {
    watch: function (options) { return __cooldown.watch('chat', options); },
    getCooldown: function (name) { return __cooldown.load('chat', name); }
  },
  watch: function (options) { return __cooldown.watch('bot', options); },
  getCooldown: function (name) { return __cooldown.load('bot', name); }
});
