// SmartTasker: tasks a user completes for a reward (`{id, amount, title, manyTimes, question,
// answers, correctAnswer, …}`), their progress per user and the instance's `balance`. What a
// user did is the user's property `SmartTasker.<name>:completedTasks` ({tasks: {<id>: {count,
// reward, first_at, last_at}}, skipped: [ids], totalReward, completedCount}); the balance is the
// bot's to keep (it is not saved here).
(function () {
  // Answer parameters `answer<n>` that `prepareTaskQuestion` sets (empty past the task's answers).
  var ANSWERS_MAX = 10;

  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  function isObject(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

  function SmartTasker(opts) {
    if (!(this instanceof SmartTasker)) { throw new Error('SmartTasker: use new SmartTasker(options)'); }
    opts = opts || {};
    this.name = opts.name === undefined || opts.name === null || opts.name === '' ? 'default' : String(opts.name);
    this.smartBot = opts.smartBot || null;
    var balance = opts.balance === undefined || opts.balance === null || opts.balance === '' ? 0 : parseFloat(opts.balance);
    if (isNaN(balance)) { this.fail('constructor', 'balance must be a number'); }
    this.balance = balance;
    this.tasks = opts.tasks === undefined || opts.tasks === null ? [] : opts.tasks;
    if (!Array.isArray(this.tasks)) { this.fail('constructor', 'tasks must be an array of {id, amount}'); }
    var self = this;
    var seen = {};
    this.tasks.forEach(function (task) {
      if (!isObject(task)) { self.fail('constructor', 'a task must be an object {id, amount}'); }
      if (typeof task.id !== 'string' || task.id === '' || /[\s:]/.test(task.id)) {
        self.fail('constructor', 'task id ' + JSON.stringify(task.id) + ' must be a string without spaces or colons');
      }
      if (has(seen, task.id)) { self.fail('constructor', 'task id "' + task.id + '" is used twice'); }
      seen[task.id] = true;
      if (typeof task.amount !== 'number' || isNaN(task.amount)) {
        self.fail('constructor', 'task "' + task.id + '" needs a numeric amount');
      }
    });
    this.curTask = null;
    this.curExecution = null;
    this.completedTasks = null;
  }

  SmartTasker.prototype.fail = function (method, text) {
    throw new Error('SmartTasker "' + this.name + '" - ' + method + ': ' + text);
  };

  SmartTasker.prototype.propName = function () { return 'SmartTasker.' + this.name + ':completedTasks'; };

  SmartTasker.prototype._progress = function () {
    if (this.completedTasks) { return this.completedTasks; }
    if (typeof user === 'undefined' || !user) { this.fail('progress', 'there is no user in this run'); }
    var p = User.getProperty(this.propName());
    if (!isObject(p)) { p = {}; }
    if (!isObject(p.tasks)) { p.tasks = {}; }
    if (!Array.isArray(p.skipped)) { p.skipped = []; }
    if (typeof p.totalReward !== 'number') { p.totalReward = 0; }
    if (typeof p.completedCount !== 'number') { p.completedCount = 0; }
    this.completedTasks = p;
    return p;
  };

  SmartTasker.prototype._save = function () {
    User.setProperty(this.propName(), this._progress(), 'json');
  };

  SmartTasker.prototype.getTaskDefById = function (id) {
    for (var i = 0; i < this.tasks.length; i++) {
      if (this.tasks[i].id === String(id)) { return this.tasks[i]; }
    }
    return null;
  };

  // Whether the user completed the task (as many times as it may be: once, unless `manyTimes`).
  SmartTasker.prototype.isCompleted = function (id) {
    var task = this.getTaskDefById(id);
    var done = this._progress().tasks[String(id)];
    return !!(task && done && done.count > 0 && !task.manyTimes);
  };

  // The tasks the user may still do: not completed (or `manyTimes`), not skipped.
  SmartTasker.prototype.getTasksForWork = function () {
    var self = this;
    var progress = this._progress();
    return this.tasks.filter(function (task) {
      return !self.isCompleted(task.id) && progress.skipped.indexOf(task.id) < 0;
    });
  };

  // Skips the first task left; whether another one is left.
  SmartTasker.prototype.skipTask = function () {
    var left = this.getTasksForWork();
    if (left.length === 0) { return false; }
    this._progress().skipped.push(left[0].id);
    this._save();
    return left.length > 1;
  };

  // Makes the task (by id, or a definition) the current one; its fields become SmartBot params.
  SmartTasker.prototype.defineTask = function (idOrDefinition) {
    var task = isObject(idOrDefinition) ? idOrDefinition : this.getTaskDefById(idOrDefinition);
    if (!task) { this.fail('defineTask', 'no task "' + idOrDefinition + '"'); }
    this.curTask = task;
    if (this.smartBot && typeof this.smartBot.add === 'function') { this.smartBot.add(task); }
    return task;
  };

  // The current task, and what the user did of it (`curExecution`, null if nothing).
  SmartTasker.prototype.defineWork = function (id) {
    var task = this.defineTask(id);
    var done = this._progress().tasks[task.id];
    this.curExecution = done ? done : null;
    return this.curExecution;
  };

  // Completes the task for the user and adds its amount to the balance; the execution, or false
  // when the user had completed it already.
  SmartTasker.prototype.completeExecution = function (id) {
    var task = id === undefined || id === null ? this.curTask : this.defineTask(id);
    if (!task) { this.fail('completeExecution', 'no task: pass a task id'); }
    if (!this.getTaskDefById(task.id)) { this.fail('completeExecution', 'no task "' + task.id + '"'); }
    if (this.isCompleted(task.id)) {
      this.curExecution = this._progress().tasks[task.id];
      return false;
    }
    var progress = this._progress();
    var now = new Date().toISOString();
    var done = progress.tasks[task.id] || { count: 0, reward: 0, first_at: now };
    done.count += 1;
    done.reward += task.amount;
    done.last_at = now;
    progress.tasks[task.id] = done;
    progress.skipped = progress.skipped.filter(function (s) { return s !== task.id; });
    progress.totalReward += task.amount;
    progress.completedCount += 1;
    this.addBalance(task.amount);
    this._save();
    this.curExecution = done;
    return done;
  };

  SmartTasker.prototype.addBalance = function (amount) {
    var n = typeof amount === 'number' ? amount : parseFloat(amount);
    if (isNaN(n)) { this.fail('addBalance', JSON.stringify(amount) + ' is not a number'); }
    var next = parseFloat((this.balance + n).toFixed(10));
    if (next < 0) { this.fail('addBalance', 'the balance ' + this.balance + ' can not go below zero, amount: ' + n); }
    this.balance = next;
    return next;
  };

  SmartTasker.prototype.clearUserProgress = function () {
    this.completedTasks = null;
    if (typeof user === 'undefined' || !user) { this.fail('clearUserProgress', 'there is no user in this run'); }
    User.deleteProperty(this.propName());
  };

  SmartTasker.prototype.add = function (params) {
    if (this.smartBot && typeof this.smartBot.add === 'function') { this.smartBot.add(params); }
  };

  // Sets the SmartBot params of a task's question: `question`, `answer<n>` (n from 1),
  // `isValidAnswer<n>` ("<task id>:1" for the correct answer, "<task id>:0" else, what
  // `acceptAnswer` reads), `answerCommand<n>` (`onAnswer` with it) and `answersCount`.
  SmartTasker.prototype.prepareTaskQuestion = function (spec) {
    spec = spec || {};
    var id = spec.taskID !== undefined ? spec.taskID : (this.curTask ? this.curTask.id : undefined);
    var task = this.getTaskDefById(id);
    if (!task) { this.fail('prepareTaskQuestion', 'no task "' + id + '"'); }
    if (!task.question) { this.fail('prepareTaskQuestion', 'task "' + task.id + '" has no question'); }
    if (!Array.isArray(task.answers) || task.answers.length === 0) {
      this.fail('prepareTaskQuestion', 'task "' + task.id + '" has no answers');
    }
    if (task.answers.length > ANSWERS_MAX) {
      this.fail('prepareTaskQuestion', 'task "' + task.id + '" has more than ' + ANSWERS_MAX + ' answers');
    }
    if (task.answers.indexOf(task.correctAnswer) < 0) {
      this.fail('prepareTaskQuestion', 'the correctAnswer of task "' + task.id + '" is not one of its answers');
    }
    this.defineTask(task);
    var params = { question: task.question, answersCount: task.answers.length };
    for (var n = 1; n <= ANSWERS_MAX; n++) {
      var answer = task.answers[n - 1];
      var valid = answer === undefined ? '' : task.id + ':' + (answer === task.correctAnswer ? '1' : '0');
      params['answer' + n] = answer === undefined ? '' : String(answer);
      params['isValidAnswer' + n] = valid;
      params['answerCommand' + n] = answer === undefined || !spec.onAnswer ? '' : String(spec.onAnswer) + ' ' + valid;
    }
    this.add(params);
    return params;
  };

  // `{taskID, isCorrect}` from "<task id>:1" or "<task id>:0" (the command's params by default),
  // or null; the task becomes the current one.
  SmartTasker.prototype.acceptAnswer = function (text) {
    if (text === undefined) { text = typeof params === 'undefined' ? '' : params; }
    var found = /^([^\s:]+):(1|0|true|false)$/.exec(String(text === null ? '' : text).trim());
    if (!found) { return null; }
    var task = this.getTaskDefById(found[1]);
    if (task) { this.defineTask(task); }
    return { taskID: found[1], isCorrect: found[2] === '1' || found[2] === 'true' };
  };

  globalThis.SmartTasker = SmartTasker;
})();
