// BBAdmin: Bots.Business's account operations (attracting users, installing and cloning bots
// into Bots.Business accounts, linked accounts, iteration quotas, Store purchases, passwords).
// They all go through Bots.Business's own account service, which botyard does not have: every
// function — and `BBAdmin.curUser`, the linked Bots.Business account of the user — throws an
// error saying so, rather than pretending to have done it.
(function () {
  var WHAT = {
    attractUser: 'attract a user to a Bots.Business account',
    installBot: 'install a bot into a Bots.Business account',
    cloneBot: 'clone a bot in a Bots.Business account',
    installPaidStoreBot: 'install a paid bot of the Bots.Business Store',
    tgSignIn: 'sign in to a Bots.Business account',
    addChildAccount: 'link a Bots.Business account',
    unlinkAllChildAccounts: 'unlink Bots.Business accounts',
    getParentAccount: 'read the linked Bots.Business account',
    getParentAccountDetails: 'read the linked Bots.Business account',
    curUser: 'read the linked Bots.Business account of the user',
    addExtraPointsToIterationQuota: 'change the iteration quota of a Bots.Business account',
    getAccountBalance: 'read the balance of a Bots.Business account',
    resetPassword: 'reset the password of a Bots.Business account'
  };

  function unsupported(name) {
    var what = Object.prototype.hasOwnProperty.call(WHAT, name) ? WHAT[name] : 'work on a Bots.Business account';
    return new Error('BBAdmin.' + name + ': botyard has no Bots.Business account service, so it cannot ' + what +
      ' (bots, users and iteration quotas are managed in botyard\'s app and API)');
  }

  globalThis.BBAdmin = new Proxy({}, {
    get: function (target, key) {
      if (typeof key !== 'string' || key === 'toJSON' || key === 'then' || key === 'constructor') { return undefined; }
      if (key in Object.prototype) { return Object.prototype[key]; }
      if (key === 'curUser') { throw unsupported(key); }
      return function () { throw unsupported(key); };
    }
  });
})();
