/*CMD
  command: /start
  help: Start the bot
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: Hello! I repeat what you say. Try the buttons.
  keyboard: Help,About\nYour name
  aliases: start, hi
  group: 
CMD*/

if (User.getProperty("first_name")) { Bot.sendMessage("Welcome back, <first_name>!"); }
