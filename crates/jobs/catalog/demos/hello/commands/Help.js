/*CMD
  command: Help
  help: What this bot does
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: 
  keyboard: 
  aliases: /help
  group: 
CMD*/

Bot.sendMessage("Commands: /start, Help, About, Your name. Anything else comes back to you.");
