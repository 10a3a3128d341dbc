//! Signature checks off the async workers: a few dedicated threads (one per
//! core, at most four) take verification jobs from a queue, so voucher
//! acceptance neither blocks the runtime nor pays `spawn_blocking`'s
//! per-task thread hand-off on every voucher.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The verification threads; they end when the pool is dropped.
pub(crate) struct VerifyPool {
    tx: Mutex<Sender<Job>>,
}

impl VerifyPool {
    pub(crate) fn new() -> VerifyPool {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 4);
        for i in 0..threads {
            let rx = rx.clone();
            // A pool that cannot start a thread still has the others; with
            // none, `run` answers `None` and the caller reports it.
            let _ = std::thread::Builder::new()
                .name(format!("watchtower-verify-{i}"))
                .spawn(move || work(&rx));
        }
        VerifyPool { tx: Mutex::new(tx) }
    }

    /// Runs `f` on a verification thread; `None` if the pool stopped.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(f());
        });
        self.tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .ok()?;
        answer.await.ok()
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let rx = rx.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            }
        };
        job();
    }
}
