// DateTimeFormat: a date as text by a mask (d, dd, ddd, dddd, m … mmmm, yy, yyyy, h, hh, H, HH,
// M, MM, s, ss, l, L, t, tt, T, TT, Z, o, S, quoted literals, and a leading "UTC:").
(function () {
  var DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat',
    'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec',
    'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
    'November', 'December'];
  var MASKS = {
    'default': 'ddd mmm dd yyyy HH:MM:ss',
    shortDate: 'm/d/yy',
    mediumDate: 'mmm d, yyyy',
    longDate: 'mmmm d, yyyy',
    fullDate: 'dddd, mmmm d, yyyy',
    shortTime: 'h:MM TT',
    mediumTime: 'h:MM:ss TT',
    longTime: 'h:MM:ss TT Z',
    isoDate: 'yyyy-mm-dd',
    isoTime: 'HH:MM:ss',
    isoDateTime: "yyyy-mm-dd'T'HH:MM:ss",
    isoUtcDateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss'Z'"
  };
  var TOKEN = /d{1,4}|m{1,4}|yy(?:yy)?|HH?|hh?|MM?|ss?|TT?|tt?|[LloSZ]|"[^"]*"|'[^']*'/g;

  function pad(value, width) {
    var text = String(value);
    while (text.length < width) { text = '0' + text; }
    return text;
  }

  function offsetText(minutes) {
    var sign = minutes > 0 ? '-' : '+';
    var abs = Math.abs(minutes);
    return sign + pad(Math.floor(abs / 60) * 100 + abs % 60, 4);
  }

  function format(date, mask, utc) {
    if (date === undefined || date === null) { date = new Date(); }
    date = date instanceof Date ? new Date(date.getTime()) : new Date(date);
    if (isNaN(date.getTime())) { throw new Error('DateTimeFormat: invalid date'); }
    mask = String(MASKS[mask] || mask || MASKS['default']);
    if (mask.slice(0, 4) === 'UTC:') { mask = mask.slice(4); utc = true; }
    var get = function (part) { return date[(utc ? 'getUTC' : 'get') + part](); };
    var d = get('Date'), D = get('Day'), m = get('Month'), y = get('FullYear');
    var H = get('Hours'), M = get('Minutes'), s = get('Seconds'), L = get('Milliseconds');
    var offset = utc ? 0 : date.getTimezoneOffset();
    var values = {
      d: d, dd: pad(d, 2), ddd: DAYS[D], dddd: DAYS[D + 7],
      m: m + 1, mm: pad(m + 1, 2), mmm: MONTHS[m], mmmm: MONTHS[m + 12],
      yy: String(y).slice(2), yyyy: y,
      h: H % 12 || 12, hh: pad(H % 12 || 12, 2), H: H, HH: pad(H, 2),
      M: M, MM: pad(M, 2), s: s, ss: pad(s, 2),
      l: pad(L, 3), L: pad(Math.round(L / 10) > 99 ? 99 : Math.round(L / 10), 2),
      t: H < 12 ? 'a' : 'p', tt: H < 12 ? 'am' : 'pm', T: H < 12 ? 'A' : 'P', TT: H < 12 ? 'AM' : 'PM',
      Z: utc || offset === 0 ? 'UTC' : 'GMT' + offsetText(offset),
      o: offsetText(offset),
      S: ['th', 'st', 'nd', 'rd'][d % 10 > 3 || (d % 100 - d % 10 === 10) ? 0 : d % 10]
    };
    return mask.replace(TOKEN, function (token) {
      if (token in values) { return String(values[token]); }
      return token.slice(1, token.length - 1);
    });
  }

  publish({ format: format, masks: MASKS });
})();
