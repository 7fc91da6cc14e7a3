// Random: numbers and picks. Libs.Random.int(1, 6); Libs.Random.float(0, 1);
// Libs.Random.pick(["a", "b"]); Libs.Random.shuffle([1, 2, 3]); Libs.Random.sendMessage(["Hi", "Hello"])

function int(min, max) { return Math.floor(Math.random() * (max - min + 1)) + min; }
function float(min, max) { return Math.random() * (max - min) + min; }
function pick(items) { return items[int(0, items.length - 1)]; }
function shuffle(items) {
  var a = items.slice();
  for (var i = a.length - 1; i > 0; i--) { var j = int(0, i); var t = a[i]; a[i] = a[j]; a[j] = t; }
  return a;
}

publish({
  int: int,
  randomInt: int,
  float: float,
  randomFloat: float,
  pick: pick,
  shuffle: shuffle,
  sendMessage: function (messages) { return Bot.sendMessage(pick(messages)); }
});
