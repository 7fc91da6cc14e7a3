// Random: random numbers, strings, items and messages.
var __random = (function () {
  function fail(text) { throw new Error('Random: ' + text); }

  function bounds(min, max) {
    if (typeof min !== 'number' || typeof max !== 'number' || !isFinite(min) || !isFinite(max)) {
      fail('min and max must be numbers');
    }
    if (min > max) { fail('max must be greater than min'); }
  }

  // An integer from min to max, both included.
  function randomInt(min, max) {
    bounds(min, max);
    var low = Math.ceil(min);
    var high = Math.floor(max);
    if (low > high) { fail('there is no integer between ' + min + ' and ' + max); }
    return low + Math.floor(Math.random() * (high - low + 1));
  }

  // A number from min (included) to max.
  function randomFloat(min, max) {
    bounds(min, max);
    return min + Math.random() * (max - min);
  }

  var LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

  function randomString(length, alphabet) {
    length = length === undefined ? 8 : length;
    if (typeof length !== 'number' || !(length >= 0) || length > 100000) { fail('length must be a number from 0 to 100000'); }
    var chars = alphabet === undefined || alphabet === null ? LETTERS : String(alphabet);
    if (chars.length === 0) { fail('the alphabet is empty'); }
    var out = '';
    for (var i = 0; i < Math.floor(length); i++) { out += chars.charAt(Math.floor(Math.random() * chars.length)); }
    return out;
  }

  function randomArrayItem(items) {
    if (!items || typeof items.length !== 'number') { fail('need an array'); }
    if (items.length === 0) { return undefined; }
    return items[Math.floor(Math.random() * items.length)];
  }

  function shuffle(items) {
    if (!items || typeof items.length !== 'number') { fail('need an array'); }
    var out = Array.prototype.slice.call(items);
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1));
      var t = out[i]; out[i] = out[j]; out[j] = t;
    }
    return out;
  }

  function sendMessage(messages) {
    if (!messages || typeof messages.length !== 'number' || messages.length === 0 || typeof messages === 'string') {
      fail('need an array of messages, e.g. ["Hello", "Hi!"]');
    }
    return Bot.sendMessage(randomArrayItem(messages));
  }

  return {
    randomInt: randomInt,
    randomFloat: randomFloat,
    randomString: randomString,
    randomArrayItem: randomArrayItem,
    randomItem: randomArrayItem,
    randomElement: randomArrayItem,
    shuffle: shuffle,
    randomBool: function () { return Math.random() < 0.5; },
    sendMessage: sendMessage
  };
})();

publish(__random);
