/*CMD
  command: Tap
  help: 
  need_reply: false
  auto_retry_time: 
  folder: Menu
  answer: 
  keyboard: 
  aliases: 
  group: 
CMD*/

var coins = Libs.Points.user("coins");
coins.add(Libs.Random.int(1, 3));
Bot.sendMessage("💰 " + coins.value() + " coins");
