// Referral: who invited whom, from the parameter of /start. Call Libs.Referral.track({...}) in
// /start; share Libs.Referral.link() (a ?start=<user id> link or the bare parameter).
//   Libs.Referral.track({ onAttracted: function (byUserId) {...}, onOwnLink: function () {...},
//                         onAlreadyAttracted: function () {...} })
//   Libs.Referral.attractedBy()  -> the user id who invited this user, or null
//   Libs.Referral.count()        -> how many users this user invited
//   Libs.Referral.list()         -> their user ids

var PREFIX = 'ref';

function track(handlers) {
  handlers = handlers || {};
  var param = (typeof params === 'string' ? params : '').trim();
  if (param.indexOf(PREFIX) !== 0) { return false; }
  var by = parseInt(param.slice(PREFIX.length), 10);
  if (!by) { return false; }
  if (by === user.id) { if (handlers.onOwnLink) { handlers.onOwnLink(); } return false; }
  if (User.getProperty('referral_attracted_by')) {
    if (handlers.onAlreadyAttracted) { handlers.onAlreadyAttracted(); }
    return false;
  }
  User.setProperty('referral_attracted_by', by, 'integer');
  var list = Bot.getProp({ name: 'referral_list', user_id: by }) || [];
  list.push(user.id);
  Bot.setProp({ name: 'referral_list', value: list, type: 'json', user_id: by });
  if (handlers.onAttracted) { handlers.onAttracted(by); }
  return true;
}

publish({
  track: track,
  parameter: function () { return PREFIX + user.id; },
  link: function (botUsername) {
    var p = PREFIX + user.id;
    return botUsername ? 'https://t.me/' + botUsername + '?start=' + p : '/start ' + p;
  },
  attractedBy: function () { return User.getProperty('referral_attracted_by') || null; },
  list: function () { return User.getProperty('referral_list') || []; },
  count: function () { return (User.getProperty('referral_list') || []).length; }
});
