//! Progress reporting: indicatif bars on a terminal, plain one-line events
//! anywhere else (CI logs, pipes), never escape codes there.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::Status;
use crate::stop::Why;

pub trait Reporter {
    fn plan(&mut self, total: usize, cached: usize);
    fn started(&mut self, id: usize, label: &str);
    fn progress(&mut self, id: usize, done: u64, total: Option<u64>, message: &str);
    fn waiting(&mut self, id: usize, reason: &str);
    /// Cluster jobs queued and running.
    fn queue(&mut self, queued: usize, running: usize);
    /// An instance that was running ended.
    fn finished_running(&mut self, id: usize, label: &str, status: &Status, seconds: f64);
    /// An instance ended without running (cached, skipped).
    fn finished(&mut self, label: &str, status: &Status, seconds: f64);
    /// The run stops early: nothing new starts, running stages end.
    fn stopping(&mut self, why: Why);
    fn done(&mut self);
}

/// Bars on a terminal, lines otherwise.
pub fn for_stdout(quiet: bool) -> Box<dyn Reporter> {
    if std::io::stdout().is_terminal() && !quiet {
        Box::new(Bars::new())
    } else {
        Box::new(Lines::new(quiet))
    }
}

fn stopping_line(why: Why) -> String {
    let more = if why == Why::Interrupt {
        " (press Ctrl-C again to quit now)"
    } else {
        ""
    };
    format!(
        "{}: trainings checkpoint, nothing new starts{more}",
        why.describe()
    )
}

fn describe(label: &str, status: &Status, seconds: f64) -> String {
    match status {
        Status::Ran => format!("ran     {label} ({seconds:.1}s)"),
        Status::Cached => format!("cached  {label}"),
        Status::Failed { message, log, .. } => {
            format!("FAILED  {label}: {message} (log: {})", log.display())
        }
        Status::Skipped { reason } => format!("skipped {label}: {reason}"),
        Status::Stopped { reason, .. } | Status::JobEnded { reason } => {
            format!("stopped {label}: {reason}")
        }
    }
}

/// Plain lines: one per start and end, progress at most every 10% or 30 s.
pub struct Lines {
    total: usize,
    finished: usize,
    quiet: bool,
    /// Per running instance: its label, the tenth of its work last
    /// printed, and when.
    last: BTreeMap<usize, (String, u64, std::time::Instant)>,
    out: std::io::Stdout,
}

impl Lines {
    pub fn new(quiet: bool) -> Self {
        Lines {
            total: 0,
            finished: 0,
            quiet,
            last: BTreeMap::new(),
            out: std::io::stdout(),
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }
}

impl Reporter for Lines {
    fn plan(&mut self, total: usize, cached: usize) {
        self.total = total;
        if !self.quiet {
            self.line(&format!("{total} stage instances, {cached} cached"));
        }
    }

    fn started(&mut self, id: usize, label: &str) {
        self.last
            .insert(id, (label.to_string(), 0, std::time::Instant::now()));
        if !self.quiet {
            self.line(&format!("start   {label}"));
        }
    }

    fn progress(&mut self, id: usize, done: u64, total: Option<u64>, message: &str) {
        if self.quiet {
            return;
        }
        let Some((label, last_decile, at)) = self.last.get_mut(&id) else {
            return;
        };
        let decile = total.map_or(0, |t| done * 10 / t.max(1));
        if decile > *last_decile || at.elapsed() > Duration::from_secs(30) {
            (*last_decile, *at) = (decile, std::time::Instant::now());
            let of = total.map_or_else(String::new, |t| format!("/{t}"));
            let text = format!("  {label} {done}{of} {message}");
            self.line(&text);
        }
    }

    fn waiting(&mut self, id: usize, reason: &str) {
        if !self.quiet {
            let label = self.last.get(&id).map_or("", |(label, ..)| label.as_str());
            let text = format!("  {label} waiting: {reason}");
            self.line(&text);
        }
    }

    fn queue(&mut self, queued: usize, running: usize) {
        if !self.quiet {
            self.line(&format!("slurm: {queued} queued, {running} running"));
        }
    }

    fn finished_running(&mut self, id: usize, label: &str, status: &Status, seconds: f64) {
        self.last.remove(&id);
        self.finished(label, status, seconds);
    }

    fn finished(&mut self, label: &str, status: &Status, seconds: f64) {
        self.finished += 1;
        // Quiet runs leave failures to the final summary.
        if !self.quiet {
            let text = format!(
                "[{}/{}] {}",
                self.finished,
                self.total,
                describe(label, status, seconds)
            );
            self.line(&text);
        }
    }

    fn stopping(&mut self, why: Why) {
        // Even a quiet run says why it ends early.
        self.line(&stopping_line(why));
    }

    fn done(&mut self) {
        let _ = self.out.flush();
    }
}

/// indicatif bars: one overall, one per running instance.
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    running: BTreeMap<usize, ProgressBar>,
    cached: usize,
}

impl Bars {
    pub fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("nrun");
        Bars {
            multi,
            overall,
            running: BTreeMap::new(),
            cached: 0,
        }
    }
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Bars {
    fn plan(&mut self, total: usize, cached: usize) {
        self.overall.set_length(total as u64);
        self.cached = cached;
        self.overall.set_message(format!("({cached} cached)"));
    }

    fn started(&mut self, id: usize, label: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix} {msg} {elapsed}")
                .expect("valid template"),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.running.insert(id, bar);
    }

    fn progress(&mut self, id: usize, done: u64, total: Option<u64>, message: &str) {
        let Some(bar) = self.running.get(&id) else {
            return;
        };
        if let Some(t) = total
            && bar.length() != Some(t)
        {
            bar.set_length(t);
            bar.set_style(
                ProgressStyle::with_template(
                    "  {prefix} [{bar:25}] {pos}/{len} {msg} {per_sec} ETA {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
        }
        bar.set_position(done);
        bar.set_message(message.to_string());
    }

    fn waiting(&mut self, id: usize, reason: &str) {
        if let Some(bar) = self.running.get(&id) {
            bar.set_message(format!("waiting: {reason}"));
        }
    }

    fn queue(&mut self, queued: usize, running: usize) {
        self.overall.set_message(format!(
            "({} cached; slurm: {queued} queued, {running} running)",
            self.cached
        ));
    }

    fn finished_running(&mut self, id: usize, label: &str, status: &Status, seconds: f64) {
        if let Some(bar) = self.running.remove(&id) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.finished(label, status, seconds);
    }

    fn finished(&mut self, label: &str, status: &Status, seconds: f64) {
        if !matches!(status, Status::Cached) {
            let _ = self.multi.println(describe(label, status, seconds));
        }
        self.overall.inc(1);
    }

    fn stopping(&mut self, why: Why) {
        let _ = self.multi.println(stopping_line(why));
    }

    fn done(&mut self) {
        self.overall.finish();
    }
}
