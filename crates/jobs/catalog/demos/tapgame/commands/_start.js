/*CMD
  command: /start
  help: 
  need_reply: false
  auto_retry_time: 
  folder: 
  answer: Tap to earn coins!
  keyboard: Tap,Balance
  aliases: 
  group: 
CMD*/

