//! QuickJS bytecode: scripts compiled once in an executor's runtime and read into later runs'
//! contexts instead of parsed again — the prelude, and per bot its libraries, its own code and
//! its commands. rquickjs offers no safe call for a script's bytecode, so the few functions here
//! that use the raw bindings allow unsafe code (the crate denies it elsewhere).

use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rquickjs::{Ctx, Value, qjs};

/// The file name QuickJS gives global scripts evaluated by rquickjs (libraries, bot code, the
/// prelude).
const SCRIPT: &CStr = c"eval_script";
/// The file name QuickJS gives code run by indirect `eval`, as the prelude's `__compile` runs a
/// command: a command compiled here keeps the same positions in its stack traces.
const INPUT: &CStr = c"<input>";

/// Compiled scripts and commands, keyed by their whole source (so two bots share an entry only
/// when their code is the same), within a byte budget: when full, it starts over.
#[derive(Default)]
pub(crate) struct Compiled {
    scripts: HashMap<String, Vec<u8>>,
    commands: HashMap<String, Vec<u8>>,
    bytes: usize,
    budget: usize,
    /// Scripts and commands read from bytecode instead of parsed, counted for the whole sandbox.
    reads: Arc<AtomicU64>,
}

impl Compiled {
    pub(crate) fn new(budget: usize, reads: Arc<AtomicU64>) -> Self {
        Self { budget, reads, ..Self::default() }
    }

    fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `bytecode` of `source` (a command when `command`), unless it alone exceeds the budget.
    fn keep(&mut self, command: bool, source: &str, bytecode: Vec<u8>) {
        let size = source.len() + bytecode.len();
        if size > self.budget {
            return;
        }
        if self.bytes + size > self.budget {
            self.scripts.clear();
            self.commands.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        let map = if command { &mut self.commands } else { &mut self.scripts };
        map.insert(source.to_owned(), bytecode);
    }
}

/// Compiles a global script (sloppy mode, as rquickjs evaluates) to bytecode that any context of
/// the same runtime can read; `None` when it does not compile (evaluating the source then
/// reports the error as usual).
pub(crate) fn compile(ctx: &Ctx<'_>, code: &str) -> Option<Vec<u8>> {
    compile_as(ctx, code, SCRIPT)
}

#[allow(unsafe_code)]
fn compile_as(ctx: &Ctx<'_>, code: &str, file: &CStr) -> Option<Vec<u8>> {
    let source = std::ffi::CString::new(code).ok()?;
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: `raw` is the live context of `ctx`; the source and file name are NUL-terminated as
    // JS_Eval requires; the compiled function and the written buffer are freed here, once.
    unsafe {
        let flags = qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_COMPILE_ONLY;
        let compiled = qjs::JS_Eval(raw, source.as_ptr(), code.len() as _, file.as_ptr(), flags as i32);
        if qjs::JS_IsException(compiled) {
            let _ = ctx.catch();
            return None;
        }
        let mut len: qjs::size_t = 0;
        let written = qjs::JS_WriteObject(raw, &mut len, compiled, qjs::JS_WRITE_OBJ_BYTECODE as i32);
        qjs::JS_FreeValue(raw, compiled);
        if written.is_null() {
            let _ = ctx.catch();
            return None;
        }
        let bytes = std::slice::from_raw_parts(written, len as usize).to_vec();
        qjs::js_free(raw, written.cast());
        Some(bytes)
    }
}

/// Evaluates a script compiled by [`compile`] in this runtime, returning its completion value.
#[allow(unsafe_code)]
pub(crate) fn eval_bytecode<'js>(ctx: &Ctx<'js>, bytes: &[u8]) -> rquickjs::Result<Value<'js>> {
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the bytes were written by JS_WriteObject from a script compiled in this very
    // runtime; JS_EvalFunction takes ownership of the function it is given, and the value it
    // returns is handed to rquickjs, which frees it once.
    unsafe {
        let function =
            qjs::JS_ReadObject(raw, bytes.as_ptr(), bytes.len() as _, qjs::JS_READ_OBJ_BYTECODE as i32);
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        let result = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(result) {
            return Err(rquickjs::Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), result))
    }
}

/// Evaluates a global script in `ctx`, from its bytecode when `compiled` holds it, else
/// compiling it there first (and keeping the bytecode for the next run).
pub(crate) fn eval_script(ctx: &Ctx<'_>, code: &str, compiled: &mut Compiled) -> rquickjs::Result<()> {
    if compiled.budget == 0 {
        return ctx.eval_with_options::<(), _>(code, crate::engine::sloppy());
    }
    if let Some(bytes) = compiled.scripts.get(code) {
        compiled.read();
        return eval_bytecode(ctx, bytes).map(drop);
    }
    match compile(ctx, code) {
        Some(bytes) => {
            let done = eval_bytecode(ctx, &bytes).map(drop);
            compiled.keep(false, code, bytes);
            done
        }
        None => ctx.eval_with_options::<(), _>(code, crate::engine::sloppy()),
    }
}

/// A command's code as the function the prelude's `__compile` makes of it — the same source,
/// file name and positions — from bytecode when `compiled` holds it. `None` when it does not
/// compile (or nothing is kept): `__compile` then runs it and throws its error in its place.
pub(crate) fn command_function<'js>(
    ctx: &Ctx<'js>,
    code: &str,
    compiled: &mut Compiled,
) -> Option<Value<'js>> {
    if compiled.budget == 0 {
        return None;
    }
    let wrapped = format!("(function(){{\n{code}\n}})");
    if let Some(bytes) = compiled.commands.get(&wrapped) {
        compiled.read();
        return eval_bytecode(ctx, bytes).ok();
    }
    let bytes = compile_as(ctx, &wrapped, INPUT)?;
    let function = eval_bytecode(ctx, &bytes).ok();
    compiled.keep(true, &wrapped, bytes);
    function
}
