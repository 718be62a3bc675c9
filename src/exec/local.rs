//! The local executor: every instance is built on a thread of this process.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::Executor;
use super::events::Event;
use super::job::{self, JobSpec, Runtime};
use super::slots::GpuSlot;
use crate::cache::Store;

pub struct Local {
    store: Store,
    cancel: Arc<AtomicBool>,
    tx: Sender<Event>,
    rx: Receiver<Event>,
}

impl Local {
    pub fn new(store: Store, cancel: Arc<AtomicBool>) -> Local {
        let (tx, rx) = mpsc::channel();
        Local {
            store,
            cancel,
            tx,
            rx,
        }
    }
}

impl Executor for Local {
    fn launch(&mut self, spec: JobSpec, gpu: Option<GpuSlot>) {
        let runtime = Runtime {
            store: self.store.clone(),
            gpu,
            events: self.tx.clone(),
            cancel: self.cancel.clone(),
        };
        let events = self.tx.clone();
        std::thread::Builder::new()
            .name(format!("stage-{}", spec.id))
            .spawn(move || {
                let start = Instant::now();
                let status = job::build(&spec, runtime);
                let _ = events.send(Event::Finished {
                    id: spec.id,
                    status,
                    seconds: start.elapsed().as_secs_f64(),
                });
            })
            .expect("spawning a stage thread");
    }

    fn next_event(&mut self, wait: Duration) -> Option<Event> {
        self.rx.recv_timeout(wait).ok()
    }

    fn cancel(&mut self) {
        // Running stages watch the shared flag (set by the signal handler).
    }

    fn shares_this_machine(&self) -> bool {
        true
    }
}
