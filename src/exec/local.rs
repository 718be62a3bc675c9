//! The local executor: every instance is built on a thread of this process.

use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use super::Executor;
use super::events::Event;
use super::job::{self, JobSpec, Runtime};
use crate::cache::Store;
use crate::device::GpuSlot;
use crate::stop::Stop;

pub struct Local {
    store: Store,
    stop: Stop,
    tx: Sender<Event>,
    rx: Receiver<Event>,
}

impl Local {
    pub fn new(store: Store, stop: Stop) -> Local {
        let (tx, rx) = mpsc::channel();
        Local {
            store,
            stop,
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
            stop: self.stop.clone(),
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
        // Running stages watch the shared `Stop` themselves.
    }

    fn shares_this_machine(&self) -> bool {
        true
    }
}
