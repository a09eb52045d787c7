//! Finding every problem of a document whose checker stops at the first.
//!
//! serde (and a params type's `validate`) report one problem and stop. To
//! list them all, the field each problem is about is set aside (removed, so
//! it takes its default or goes missing) and the rest is checked again,
//! until it passes or a problem names no single field (a value of the wrong
//! type for the whole object). A field that goes missing because it was set
//! aside is not a new problem, so "missing field" for it ends the list.

use serde_json::Value;

/// Every problem `check` finds in `value`, in the order found.
/// `describe` gives a problem's path (its first segment names the field to
/// set aside: `a` of `a.b[2]`) and its message.
pub(crate) fn every_problem<P>(
    value: &Value,
    check: impl Fn(&Value) -> Result<(), P>,
    describe: impl Fn(&P) -> (&str, String),
) -> Vec<P> {
    let mut problems = Vec::new();
    let Err(first) = check(value) else {
        return problems;
    };
    let mut rest = value.clone();
    let mut aside: Vec<String> = Vec::new();
    let mut next = Some(first);
    while let Some(p) = next.take() {
        let (path, message) = describe(&p);
        if aside.iter().any(|k| message == format!("missing field `{k}`")) {
            break;
        }
        let key = path.split(['.', '[']).next().unwrap_or_default().to_owned();
        problems.push(p);
        if rest.as_object_mut().and_then(|o| o.remove(&key)).is_none() {
            break;
        }
        aside.push(key);
        next = check(&rest).err();
    }
    problems
}
