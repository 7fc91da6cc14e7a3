/*CMD
  command: /start
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: 
  aliases: 
  group: 
CMD*/

Bot.sendInlineKeyboard([
  [{ title: "👍 Like", command: "vote like" }, { title: "👎 Dislike", command: "vote dislike" }],
  [{ title: "botyard", url: "https://github.com" }]
], "Do you like inline buttons?");
