/*CMD
  command: /start
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: My link,My friends
  aliases: 
  group: 
CMD*/

Libs.Referral.track({
  onAttracted: function (by) { Bot.sendMessage("Welcome! You were invited by user " + by + "."); },
  onOwnLink: function () { Bot.sendMessage("That is your own link."); },
  onAlreadyAttracted: function () { Bot.sendMessage("You were already invited."); }
});
Bot.sendMessage("Invite friends with your link.");
