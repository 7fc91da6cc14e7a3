/*CMD
  command: Balance
  help: 
  need_reply: false
  auto_retry_time: 
  folder: Menu
  answer: 
  keyboard: 
  aliases: /balance
  group: 
CMD*/

Bot.sendMessage("Your balance: " + Libs.Points.user("coins").value() + " coins");
