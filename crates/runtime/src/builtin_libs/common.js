// CommonLib: names and links of users.
(function () {
  function getNameFor(member) {
    if (!member) { return ''; }
    if (member.first_name) { return String(member.first_name); }
    if (member.last_name) { return String(member.last_name); }
    if (member.username) { return String(member.username); }
    return '';
  }

  // A Markdown link that opens the user's profile on Telegram.
  function getLinkFor(member) {
    if (!member) { return ''; }
    var id = member.telegramid !== undefined && member.telegramid !== null ? member.telegramid : member.tgId;
    var name = getNameFor(member).replace(/[\[\]]/g, '');
    if (name === '') { name = String(id); }
    return '[' + name + '](tg://user?id=' + id + ')';
  }

  publish({ getNameFor: getNameFor, getLinkFor: getLinkFor });
})();
