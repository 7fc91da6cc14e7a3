/*CMD
  command: Your name
  help: 
  need_reply: true
  auto_retry_time: 
  folder: 
  answer: What is your name?
  keyboard: 
  aliases: 
  group: 
CMD*/

User.setProperty("first_name", message, "string");
Bot.sendMessage("Nice to meet you, " + message + "!");
