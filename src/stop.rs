//! When a run stops early, and why: Ctrl-C, a signal asking for a clean
//! stop (SIGTERM, SIGUSR1: what Slurm and other batch systems send before a
//! job's end), or the run's own time limit.
//!
//! Everything that runs long asks a [`Stop`]: the dispatcher before it
//! launches an instance, a training before each outer step (whether the
//! next step and a checkpoint still fit before the deadline), a command
//! stage while it waits on its child. A leaf module: it knows nothing of
//! stages or executors.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::error::exit;

/// Why a run stops before its work is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM or SIGUSR1.
    Signal,
    /// `--time-limit` is (nearly) reached.
    TimeLimit,
}

impl Why {
    /// Every early stop leaves checkpoints to resume from; Ctrl-C keeps the
    /// shell's convention, the others say "stopped, rerun to resume".
    pub fn exit_code(self) -> u8 {
        match self {
            Why::Interrupt => exit::INTERRUPTED,
            Why::Signal | Why::TimeLimit => exit::STOPPED,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Why::Interrupt => "interrupted",
            Why::Signal => "stopped by a signal",
            Why::TimeLimit => "stopped by the time limit",
        }
    }
}

/// A shared view of the stop requests and the deadline (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct Stop {
    interrupt: Arc<AtomicBool>,
    signal: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Stop {
    /// No deadline, no signal handlers: stops only when told to.
    #[cfg(test)]
    fn manual() -> Stop {
        Stop::default()
    }

    /// Stops at `deadline` as well.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Stop {
        self.deadline = deadline;
        self
    }

    /// Routes SIGINT, SIGTERM and SIGUSR1 of this process to the returned
    /// `Stop`. A second SIGINT exits at once (code 130), as a user pressing
    /// Ctrl-C twice expects; SIGTERM and SIGUSR1 only ever ask for a clean
    /// stop, since a batch system follows them with SIGKILL anyway.
    pub fn from_signals() -> std::io::Result<Stop> {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        use signal_hook::flag;
        let stop = Stop::default();
        // Registered first, so it sees the flag before this signal sets it.
        flag::register_conditional_shutdown(
            SIGINT,
            i32::from(exit::INTERRUPTED),
            stop.interrupt.clone(),
        )?;
        flag::register(SIGINT, stop.interrupt.clone())?;
        flag::register(SIGTERM, stop.signal.clone())?;
        flag::register(SIGUSR1, stop.signal.clone())?;
        Ok(stop)
    }

    /// Asks for a stop, as a signal would.
    #[cfg(test)]
    fn request(&self, why: Why) {
        match why {
            Why::Interrupt => self.interrupt.store(true, Ordering::SeqCst),
            Why::Signal | Why::TimeLimit => self.signal.store(true, Ordering::SeqCst),
        }
    }

    /// Why the run must stop now, if it must.
    pub fn requested(&self) -> Option<Why> {
        if self.interrupt.load(Ordering::Relaxed) {
            Some(Why::Interrupt)
        } else if self.signal.load(Ordering::Relaxed) {
            Some(Why::Signal)
        } else if self.deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Why::TimeLimit)
        } else {
            None
        }
    }

    /// Why work taking `needed` must not start now, if it must not: a stop
    /// was asked for, or it would end past the deadline.
    pub fn refuses(&self, needed: Duration) -> Option<Why> {
        self.requested().or_else(|| {
            self.deadline
                .is_some_and(|d| Instant::now() + needed >= d)
                .then_some(Why::TimeLimit)
        })
    }
}

/// When this process started, as `nrun::run` first noted it: where
/// `--time-limit` counts from, so that loading and planning count too.
pub fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// The deadline that a run given `limit` works to: the limit less a reserve
/// for what follows the last stage (publishing results, exiting): 5% of it,
/// between 1 and 60 seconds.
pub fn deadline(started: Instant, limit: Duration) -> Instant {
    let reserve = limit.mul_f64(0.05).clamp(
        Duration::from_secs(1).min(limit / 2),
        Duration::from_secs(60),
    );
    started + limit - reserve
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_reason_and_code() {
        let stop = Stop::manual();
        assert_eq!(stop.requested(), None);
        stop.request(Why::Signal);
        assert_eq!(stop.requested(), Some(Why::Signal));
        assert_eq!(stop.requested().unwrap().exit_code(), exit::STOPPED);
        stop.request(Why::Interrupt);
        assert_eq!(stop.requested(), Some(Why::Interrupt));
        assert_eq!(Why::Interrupt.exit_code(), exit::INTERRUPTED);
    }

    #[test]
    fn the_deadline_refuses_work_that_would_end_past_it() {
        let stop = Stop::manual().with_deadline(Some(Instant::now() + Duration::from_secs(60)));
        assert_eq!(stop.requested(), None);
        assert_eq!(stop.refuses(Duration::from_secs(1)), None);
        assert_eq!(stop.refuses(Duration::from_secs(61)), Some(Why::TimeLimit));
        let past = Stop::manual().with_deadline(Some(Instant::now()));
        assert_eq!(past.requested(), Some(Why::TimeLimit));
    }

    #[test]
    fn the_reserve_is_five_percent_within_bounds() {
        let t = Instant::now();
        let secs = |limit: u64| (deadline(t, Duration::from_secs(limit)) - t).as_secs_f64();
        assert_eq!(secs(600), 570.0);
        assert_eq!(secs(10), 9.0);
        assert_eq!(secs(7200), 7140.0);
        assert_eq!(secs(1), 0.5);
    }
}
