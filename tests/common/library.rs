//! The library serving in-process: an `EventLoop` on a background thread
//! whose handler sees every event, stopped when the test lets go of it.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use uhttp::{Config, Event, EventLoop, LoopHandle, Request, ServerId};

use super::client::Client;

/// A server running on its own thread; stops (and re-raises a handler
/// panic) when dropped.
pub struct TestServer {
    addrs: Vec<Vec<SocketAddr>>,
    handle: LoopHandle,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The loop thread's id, for its CPU time.
    tid: Option<String>,
}

impl TestServer {
    /// The first address of the first server.
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0][0]
    }

    /// Every address of server `index` (in the order given to
    /// `serve_loop`).
    pub fn addrs_of(&self, index: usize) -> &[SocketAddr] {
        &self.addrs[index]
    }

    /// `http://ADDR` for the first server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// `ws://ADDR` for the first server.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr())
    }

    /// The loop's handle (interrupt it, count its connections).
    pub fn handle(&self) -> &LoopHandle {
        &self.handle
    }

    /// A raw client connected to the first server.
    pub fn connect(&self) -> Client {
        Client::<TcpStream>::connect(self.addr())
    }

    /// CPU time (user + system, in clock ticks) the loop thread has used.
    pub fn loop_cpu_ticks(&self) -> u64 {
        let tid = self.tid.as_deref().expect("/proc/thread-self");
        super::procfs::cpu_ticks(&format!("/proc/self/task/{tid}/stat"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.interrupt();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
            && !std::thread::panicking()
        {
            panic!("the server thread panicked");
        }
    }
}

/// Serves a request handler (normal mode) on `127.0.0.1:0`.
pub fn serve<F>(config: Config, mut handler: F) -> TestServer
where
    F: FnMut(Request) + Send + 'static,
{
    serve_events(config, move |event| match event {
        Event::Request(req) => handler(req),
        other => panic!("unexpected event outside event mode: {other:?}"),
    })
}

/// Serves one server on `127.0.0.1:0` with `config`; `handler` gets every
/// event on the loop's thread.
pub fn serve_events<F>(config: Config, handler: F) -> TestServer
where
    F: FnMut(Event) + Send + 'static,
{
    serve_on(&["127.0.0.1:0".parse().unwrap()], config, handler)
}

/// Serves one server on `addrs` with `config`.
pub fn serve_on<F>(addrs: &[SocketAddr], config: Config, mut handler: F) -> TestServer
where
    F: FnMut(Event) + Send + 'static,
{
    let mut event_loop = EventLoop::new().expect("poll");
    let id = event_loop.add_server(addrs, config).expect("bind");
    serve_loop(event_loop, &[id], move |_, event| handler(event))
}

/// Runs an already built loop (any number of servers) on a thread; the
/// handler learns which server an event came from.
pub fn serve_loop<F>(mut event_loop: EventLoop, servers: &[ServerId], mut handler: F) -> TestServer
where
    F: FnMut(ServerId, Event) + Send + 'static,
{
    let addrs = servers
        .iter()
        .map(|&id| event_loop.local_addrs(id).to_vec())
        .collect();
    let handle = event_loop.handle();
    run_loop(addrs, handle, move || {
        if let Some(event) = event_loop.wait(None).expect("wait") {
            let server = event.request().server();
            handler(server, event);
        }
    })
}

/// Runs `turn` (one wait of a loop, and what the test does with the event)
/// over and over on a thread until the server is dropped; `handle`
/// interrupts the loop's wait, `addrs` are its servers' addresses.
pub fn run_loop(
    addrs: Vec<Vec<SocketAddr>>,
    handle: LoopHandle,
    mut turn: impl FnMut() + Send + 'static,
) -> TestServer {
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = Arc::clone(&stop);
    let (tid_tx, tid_rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        // "/proc/thread-self" links to "PID/task/TID".
        let tid = std::fs::read_link("/proc/thread-self")
            .ok()
            .map(|link| link.file_name().unwrap().to_string_lossy().into_owned());
        let _ = tid_tx.send(tid);
        while !thread_stop.load(Ordering::SeqCst) {
            turn();
        }
    });
    TestServer {
        addrs,
        handle,
        stop,
        thread: Some(thread),
        tid: tid_rx.recv().ok().flatten(),
    }
}
