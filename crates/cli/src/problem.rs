//! What went wrong, for the user: a message, its causes, a hint, and the exit code.

use std::fmt;

/// Exit code 1: the operation or the verification failed.
pub const FAILED: u8 = 1;
/// Exit code 2: the command line or the input was wrong.
pub const USAGE: u8 = 2;

/// An error meant for the terminal. Causes come from the `anyhow` chain it travels in.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
    pub code: u8,
}

impl Problem {
    /// The operation failed (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Problem { message: message.into(), hint: None, code: FAILED }
    }

    /// The input was wrong (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Problem { message: message.into(), hint: None, code: USAGE }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

/// How `main` reports an error: `error: ...`, each cause, the hint; and the exit code.
pub fn report(error: &anyhow::Error) -> (String, u8) {
    let mut text = format!("error: {error}\n");
    let mut hint = None;
    let mut code = FAILED;
    // A Problem added as context is found by downcasting the error, not its chain.
    if let Some(problem) = error.downcast_ref::<Problem>() {
        code = problem.code;
        hint.clone_from(&problem.hint);
    }
    for (depth, cause) in error.chain().enumerate() {
        if depth > 0 {
            let message = cause.to_string();
            if !text.contains(&message) {
                text.push_str(&format!("  caused by: {message}\n"));
            }
        }
        if let Some(problem) = cause.downcast_ref::<Problem>() {
            code = problem.code;
            if hint.is_none() {
                hint.clone_from(&problem.hint);
            }
        }
    }
    if let Some(hint) = hint {
        text.push_str(&format!("hint: {hint}\n"));
    }
    (text, code)
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn a_problem_as_context_keeps_its_hint() {
        let error = anyhow::Error::new(std::io::Error::other("refused"))
            .context(Problem::failed("cannot reach it").hint("retry"));
        let (text, code) = report(&error);
        assert_eq!(text, "error: cannot reach it\n  caused by: refused\nhint: retry\n");
        assert_eq!(code, FAILED);
    }

    #[test]
    fn causes_then_hint_and_code() {
        let error = Err::<(), _>(Problem::usage("bad spec").hint("fix it"))
            .context("cannot apply")
            .unwrap_err();
        let (text, code) = report(&error);
        assert_eq!(text, "error: cannot apply\n  caused by: bad spec\nhint: fix it\n");
        assert_eq!(code, USAGE);
    }
}
