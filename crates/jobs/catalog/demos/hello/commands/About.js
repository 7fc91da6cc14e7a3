/*CMD
  command: About
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: A demo bot of botyard: commands, aliases, a reply keyboard, a question and a master command.
  keyboard: 
  aliases: 
  group: 
CMD*/

