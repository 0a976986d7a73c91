//! Progress for long CLI work (`pack build`, `eval`): drawn on stderr when it is
//! a terminal, nothing at all when it is piped or redirected, so logs and
//! scripts see only the results.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress goes: stderr if a person is watching it, nowhere otherwise.
fn target(on_terminal: bool) -> ProgressDrawTarget {
    if on_terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn on_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar over `len` steps of `what` (e.g. "users"), cleared when done.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    bar_to(len, what, on_terminal())
}

fn bar_to(len: u64, what: &str, on_terminal: bool) -> ProgressBar {
    let style = ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what} ({{eta}} left)")).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::with_draw_target(Some(len), target(on_terminal)).with_style(style)
}

/// A spinner naming the stage under way; `set_message` moves it on.
pub fn stage(message: &str) -> ProgressBar {
    stage_to(message, on_terminal())
}

fn stage_to(message: &str, on_terminal: bool) -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, target(on_terminal)).with_message(message.to_string());
    spinner.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner()));
    if on_terminal {
        spinner.enable_steady_tick(Duration::from_millis(120));
    }
    spinner
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Piped or redirected, neither a bar nor a spinner draws anything.
    #[test]
    fn progress_is_hidden_off_a_terminal() {
        let (bar, spinner) = (bar_to(10, "users", false), stage_to("fitting", false));
        bar.inc(5);
        spinner.set_message("signing");
        assert!(bar.is_hidden() && spinner.is_hidden());
    }
}
