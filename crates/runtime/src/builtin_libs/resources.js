// ResourcesLib (also `ResLib`): resources of users and chats with growth. See res_core.js.
publish({
  userRes: function (name) { return __bbRes.user(name); },
  chatRes: function (name) { return __bbRes.chat(name); },
  anotherUserRes: function (name, telegramid) { return __bbRes.user(name, telegramid); },
  anotherChatRes: function (name, chatid) { return __bbRes.chat(name, chatid); },
  growthFor: function (res) { return res.growth; }
});
