//! Progress bars (indicatif) hooked to the learners' observer traits. They draw to stderr and
//! hide themselves when stderr is not a terminal.

use crate::dilp::{LearnObserver, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `dilp learn`: step, loss, converged and solved seeds.
pub struct LearnBar {
    bar: ProgressBar,
}

impl LearnBar {
    pub fn new(label: &str, steps: usize) -> Self {
        let bar = ProgressBar::new(steps as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        LearnBar { bar }
    }
    pub fn hidden() -> Self {
        LearnBar {
            bar: ProgressBar::hidden(),
        }
    }
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl LearnObserver for LearnBar {
    fn on_progress(&mut self, p: &Progress) {
        self.bar.set_position(p.step as u64);
        self.bar.set_message(format!(
            "loss {:.4}  active {}  converged {} (solved {})",
            p.loss, p.active, p.converged, p.solved
        ));
    }
}

/// A plain bar with a message, for loops that are not a learner.
pub fn bar(label: &str, len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>14} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(label.to_string());
    bar
}
