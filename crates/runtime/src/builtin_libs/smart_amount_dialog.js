// SmartAmountDialog: checks an amount a user typed (digits with an optional decimal point)
// against `min`, `max`, the balance `curValue` and `onlyInteger`. `accept(text)` gives true, or on
// failure the configured error (`dialogErrors.invalid | notInteger | zero | notEnough | small |
// big`, with `{_amount}`, `{_min}`, `{_max}` and `{_curValue}` filled in); with a SmartBot
// (`smartBot`, or `smart_bot` as older pages write it) false, and the error filled with the
// SmartBot's params too in `errMsg`.
(function () {
  var DEFAULTS = {
    invalid: 'Invalid amount: {_amount}',
    notInteger: 'The amount must be a whole number',
    zero: 'Your balance is zero',
    notEnough: 'Not enough: at most {_curValue}',
    small: 'The amount must be at least {_min}',
    big: 'The amount must be at most {_max}'
  };

  function number(v) {
    if (v === undefined || v === null || v === '') { return undefined; }
    var n = typeof v === 'number' ? v : parseFloat(v);
    if (isNaN(n)) { throw new Error('SmartAmountDialog: ' + JSON.stringify(v) + ' is not a number'); }
    return n;
  }

  function SmartAmountDialog(opts) {
    if (!(this instanceof SmartAmountDialog)) { throw new Error('SmartAmountDialog: use new SmartAmountDialog(options)'); }
    opts = opts || {};
    this.min = number(opts.min);
    this.max = number(opts.max);
    this.curValue = number(opts.curValue);
    this.onlyInteger = !!opts.onlyInteger;
    this.skipZero = !!opts.skipZero;
    this.dialogErrors = opts.dialogErrors && typeof opts.dialogErrors === 'object' ? opts.dialogErrors : {};
    this.smartBot = opts.smartBot || opts.smart_bot || null;
    this.amount = undefined;
    this.error = null;
    this.errMsg = null;
  }

  SmartAmountDialog.prototype.check = function (text) {
    if (!/^\d+(\.\d+)?$/.test(text)) { return 'invalid'; }
    var amount = this.amount;
    if (this.onlyInteger && amount % 1 !== 0) { return 'notInteger'; }
    if (this.curValue !== undefined) {
      if (!this.skipZero && this.curValue <= 0) { return 'zero'; }
      if (amount > this.curValue) { return 'notEnough'; }
    }
    if (this.min !== undefined && amount < this.min) { return 'small'; }
    if (this.max !== undefined && amount > this.max) { return 'big'; }
    return null;
  };

  SmartAmountDialog.prototype.accept = function (value) {
    var text = value === undefined || value === null ? '' : String(value).trim();
    this.amount = /^\d+(\.\d+)?$/.test(text) ? parseFloat(text) : undefined;
    this.error = this.check(text);
    if (this.error === null) {
      this.errMsg = null;
      return true;
    }
    var errors = this.dialogErrors;
    var configured = Object.prototype.hasOwnProperty.call(errors, this.error) ? errors[this.error] : DEFAULTS[this.error];
    if (this.smartBot) {
      this.smartBot.add({ _amount: text, _min: this.min, _max: this.max, _curValue: this.curValue });
      this.errMsg = typeof configured === 'string' ? this.smartBot.fill(configured) : configured;
      return false;
    }
    // Without a SmartBot only the dialog's own fields are filled in.
    var fields = { _amount: text, _min: this.min, _max: this.max, _curValue: this.curValue };
    this.errMsg = typeof configured !== 'string' ? configured : configured.replace(/\{(_amount|_min|_max|_curValue)\}/g, function (_, k) {
      return fields[k] === undefined ? '' : String(fields[k]);
    });
    return this.errMsg;
  };

  globalThis.SmartAmountDialog = SmartAmountDialog;
})();
