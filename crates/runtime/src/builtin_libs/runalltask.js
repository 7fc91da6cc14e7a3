// RunAllTask: `new RunAllTask({id})`, a broadcast task of `Bot.runAll`. Scripts on botyard cannot
// read a broadcast task: its `status`, `progress`, `cur_position`, `total` and `errors_count` are
// known only in the command `on_create` names (from `options.run_all_task`, as the task was
// created); elsewhere reading them throws an error that says where to look instead.
(function () {
  var FIELDS = ['status', 'progress', 'cur_position', 'total', 'errors_count'];

  function RunAllTask(spec) {
    if (!(this instanceof RunAllTask)) { throw new Error('RunAllTask: use new RunAllTask({id})'); }
    var id = spec !== null && typeof spec === 'object' ? spec.id : spec;
    if (id === undefined || id === null || id === '') { throw new Error('RunAllTask: need {id}'); }
    var number = Number(id);
    this.id = isNaN(number) ? id : number;
    var created = typeof options !== 'undefined' && options && typeof options === 'object' ? options.run_all_task : null;
    if (created && typeof created === 'object' && String(created.id) === String(this.id)) {
      var known = { status: created.status, progress: 0, cur_position: 0, total: created.total, errors_count: 0 };
      for (var i = 0; i < FIELDS.length; i++) {
        Object.defineProperty(this, FIELDS[i], { value: known[FIELDS[i]], enumerable: true, writable: true });
      }
    }
  }

  FIELDS.forEach(function (field) {
    Object.defineProperty(RunAllTask.prototype, field, {
      configurable: true,
      get: function () {
        throw new Error('RunAllTask: botyard cannot read the ' + field + ' of broadcast task ' + this.id +
          ' from BJS; the task is only known in its on_create command (options.run_all_task). Follow it in ' +
          'botyard\'s app or with GET /v2/bots/' + (typeof bot !== 'undefined' && bot ? bot.id : '<bot>') + '/broadcast_tasks');
      }
    });
  });

  globalThis.RunAllTask = RunAllTask;
})();
