//! A fixed set of threads doing slow work off the poll loop, fed by a
//! bounded queue: [`Pool::try_run`] never waits; when the queue is full it
//! hands the job back, for the caller to answer "busy".
//!
//! A job that panics is logged and costs only itself: its thread goes on
//! with the next job (a request it held unanswered is answered 500 by the
//! library when its handle drops).

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

/// Threads running one function over jobs of type `J`, and the queue in
/// front of them. Dropping the pool lets the threads finish the queued
/// jobs and exit.
pub struct Pool<J> {
    queue: SyncSender<J>,
    threads: usize,
    capacity: usize,
}

impl<J: Send + 'static> Pool<J> {
    /// Starts `threads` threads named `name-N` that each take the next
    /// job and `run` it, with room for `capacity` jobs waiting (both at
    /// least 1).
    pub fn new(
        name: &str,
        threads: usize,
        capacity: usize,
        run: impl Fn(J) + Send + Sync + 'static,
    ) -> io::Result<Pool<J>> {
        let (threads, capacity) = (threads.max(1), capacity.max(1));
        let (queue, jobs) = mpsc::sync_channel::<J>(capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        let run = Arc::new(run);
        for n in 1..=threads {
            let (jobs, run) = (Arc::clone(&jobs), Arc::clone(&run));
            thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&jobs, &*run))?;
        }
        Ok(Pool {
            queue,
            threads,
            capacity,
        })
    }

    /// Queues `job`; when `capacity` jobs already wait, gives it back at
    /// once.
    pub fn try_run(&self, job: J) -> Result<(), J> {
        self.queue.try_send(job).map_err(|e| match e {
            mpsc::TrySendError::Full(job) | mpsc::TrySendError::Disconnected(job) => job,
        })
    }

    /// How many threads run jobs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many jobs may wait.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<J> std::fmt::Debug for Pool<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads)
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// One thread: run jobs until the pool is dropped.
fn work<J>(jobs: &Mutex<Receiver<J>>, run: &(impl Fn(J) + ?Sized)) {
    loop {
        // The lock is held only while waiting for the next job; the job
        // runs after it is released.
        let job = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else {
            return;
        };
        if catch_unwind(AssertUnwindSafe(|| run(job))).is_err() {
            log::error!(
                "a job on thread {} panicked",
                thread::current().name().unwrap_or("?")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const PATIENCE: Duration = Duration::from_secs(10);

    type Job = Box<dyn FnOnce() + Send>;

    fn pool(threads: usize, capacity: usize) -> Pool<Job> {
        Pool::new("test", threads, capacity, |job: Job| job()).unwrap()
    }

    fn queue(pool: &Pool<Job>, job: impl FnOnce() + Send + 'static) {
        assert!(pool.try_run(Box::new(job)).is_ok(), "the queue is full");
    }

    #[test]
    fn hands_back_jobs_beyond_the_queue_and_runs_the_rest() {
        let pool = pool(1, 2);
        let (release, blocked) = mpsc::channel::<()>();
        let (started, on_start) = mpsc::channel::<()>();
        let (done, finished) = mpsc::channel::<u32>();
        // Occupy the only thread, and wait until it is busy.
        queue(&pool, move || {
            started.send(()).unwrap();
            blocked.recv_timeout(PATIENCE).unwrap();
        });
        on_start.recv_timeout(PATIENCE).unwrap();
        for n in 0..2 {
            let done = done.clone();
            queue(&pool, move || done.send(n).unwrap());
        }
        let (tx, refused) = mpsc::channel();
        let handed_back = pool.try_run(Box::new(move || tx.send(()).unwrap()));
        // The job came back untouched: running it here works.
        let Err(job) = handed_back else {
            panic!("a job beyond the queue was taken");
        };
        job();
        assert_eq!(refused.try_recv(), Ok(()));
        release.send(()).unwrap();
        assert_eq!(finished.recv_timeout(PATIENCE), Ok(0));
        assert_eq!(finished.recv_timeout(PATIENCE), Ok(1));
    }

    #[test]
    fn a_panicking_job_leaves_its_thread_running() {
        let pool = pool(1, 4);
        queue(&pool, || panic!("job panics on purpose"));
        let (done, finished) = mpsc::channel();
        queue(&pool, move || done.send(()).unwrap());
        assert_eq!(finished.recv_timeout(PATIENCE), Ok(()));
    }
}
