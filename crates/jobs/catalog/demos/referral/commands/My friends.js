/*CMD
  command: My friends
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: 
  aliases: 
  group: 
CMD*/

Bot.sendMessage("You invited " + Libs.Referral.count() + " friend(s).");
