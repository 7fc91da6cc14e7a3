// Webhooks: URLs that run a command of the bot when called (GET or POST). A user's URL is signed
// with `public_user_token`, the MD5 of "<bot.token>-<user_id>-<command> Salt is very salty!", which
// botyard checks; a global URL carries an API key of the bot's owner (`setApiKey`).
(function () {
  var API_KEY_PROP = 'WebhooksLib_api_key';

  function fail(text) { throw new Error('Webhooks: ' + text); }

  function utf8(text) {
    var out = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
        var next = text.charCodeAt(i + 1);
        if (next >= 0xdc00 && next < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00); i++; }
      }
      if (c >= 0xd800 && c < 0xe000) { c = 0xfffd; }
      if (c < 0x80) { out.push(c); }
      else if (c < 0x800) { out.push(0xc0 | (c >> 6), 0x80 | (c & 63)); }
      else if (c < 0x10000) { out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)); }
      else { out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)); }
    }
    return out;
  }

  // MD5 of the text's UTF-8 bytes, as lowercase hex.
  function md5(text) {
    var bytes = utf8(String(text));
    var i;
    var bitLength = bytes.length * 8;
    bytes.push(0x80);
    while (bytes.length % 64 !== 56) { bytes.push(0); }
    for (i = 0; i < 8; i++) { bytes.push(i < 4 ? (bitLength >>> (8 * i)) & 0xff : (i === 4 ? Math.floor(bitLength / 4294967296) & 0xff : 0)); }
    var shifts = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    var k = [];
    for (i = 0; i < 64; i++) { k[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0; }
    var a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
    for (var chunk = 0; chunk < bytes.length; chunk += 64) {
      var w = [];
      for (i = 0; i < 16; i++) {
        var o = chunk + i * 4;
        w[i] = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
      }
      var a = a0, b = b0, c = c0, d = d0;
      for (i = 0; i < 64; i++) {
        var f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        var sum = (a + f + k[i] + w[g]) | 0;
        var shift = shifts[(i >> 4) * 4 + (i % 4)];
        a = d; d = c; c = b;
        b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
      }
      a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
    }
    var hex = '';
    [a0, b0, c0, d0].forEach(function (word) {
      for (var j = 0; j < 4; j++) { hex += ('0' + ((word >>> (8 * j)) & 0xff).toString(16)).slice(-2); }
    });
    return hex;
  }

  function base() {
    if (typeof BB_API_URL === 'undefined' || !BB_API_URL) { fail('BB_API_URL is not set'); }
    return 'https://' + BB_API_URL + '/v1/bots/' + bot.id + '/new-webhook?';
  }

  function command(options) {
    if (!options || typeof options !== 'object') { fail('need {command}'); }
    if (options.command === undefined || options.command === null || String(options.command) === '') {
      fail('need command');
    }
    return String(options.command);
  }

  function tail(options) {
    var out = '';
    if (options.content !== undefined && options.content !== null) {
      var content = typeof options.content === 'string' ? options.content : JSON.stringify(options.content);
      out += '&content=' + encodeURIComponent(content);
    }
    if (options.redirect_to) { out += '&redirect_to=' + encodeURIComponent(String(options.redirect_to)); }
    return out;
  }

  // A URL for a user: `user_id` is the user's `user.id` (the current user by default).
  function getUrlFor(options) {
    var name = command(options);
    var userId = options.user_id;
    if (userId === undefined) { userId = typeof user !== 'undefined' && user ? user.id : ''; }
    userId = userId === null ? '' : String(userId);
    var token = md5(bot.token + '-' + userId + '-' + name + ' Salt is very salty!');
    return base() + '&command=' + encodeURIComponent(name) + '&public_user_token=' + token +
      '&user_id=' + encodeURIComponent(userId) + tail(options);
  }

  function setApiKey(key) {
    if (!key) { fail('need an API key'); }
    Bot.setProperty(API_KEY_PROP, String(key), 'string');
  }

  // A URL for the bot (no user), authorised by the API key given to setApiKey.
  function getGlobalUrl(options) {
    var name = command(options);
    var key = Bot.getProperty(API_KEY_PROP);
    if (!key) { fail('set an API key of the bot\'s owner with Libs.Webhooks.setApiKey(key) first'); }
    return base() + '&command=' + encodeURIComponent(name) + '&api_key=' + encodeURIComponent(key) + tail(options);
  }

  publish({
    getUrlFor: getUrlFor,
    getGlobalUrl: getGlobalUrl,
    setApiKey: setApiKey,
    getUrl: getUrlFor,
    md5: md5
  });
})();
