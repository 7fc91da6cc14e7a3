/*CMD
  command: vote
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: 
  aliases: 
  group: 
CMD*/

var key = "votes_" + params;
var votes = (Bot.getProperty(key) || 0) + 1;
Bot.setProperty(key, votes, "integer");
var likes = Bot.getProperty("votes_like") || 0;
var dislikes = Bot.getProperty("votes_dislike") || 0;
Bot.editInlineKeyboard([
  [{ title: "👍 " + likes, command: "vote like" }, { title: "👎 " + dislikes, command: "vote dislike" }]
]);
