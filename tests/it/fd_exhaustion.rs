//! Running out of file descriptors on accept neither spins the loop nor
//! ends it. The server runs in a child process with a low `ulimit -n`.

use std::time::Duration;

use crate::child::ChildServer;
use crate::util::{Client, IO_TIMEOUT};

/// Clock ticks per second of `/proc/PID/stat` on Linux.
const TICKS_PER_SECOND: u64 = 100;

#[test]
fn backs_off_on_emfile_and_serves_again_once_fds_free_up() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: needs /proc");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let mut server = ChildServer::start(&file, Some(48));
    assert_eq!(Client::connect(server.addr).get("/").status, 200);

    // More connections than the child has descriptors: the accept queue
    // keeps the rest while accept() fails with EMFILE.
    let mut clients: Vec<Client> = (0..120).map(|_| Client::connect(server.addr)).collect();
    // One request on the last connection can't be answered yet.
    clients
        .last_mut()
        .unwrap()
        .send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(
        clients
            .last_mut()
            .unwrap()
            .is_silent_for(Duration::from_millis(200))
    );

    let before = server.cpu_ticks();
    std::thread::sleep(Duration::from_secs(1));
    let used = server.cpu_ticks() - before;
    assert!(
        used < TICKS_PER_SECOND / 4,
        "the loop used {used} ticks of CPU in 1 s while out of descriptors"
    );
    assert!(server.is_running());

    // Free the descriptors: the waiting request is served, and new ones.
    let mut last = clients.pop().unwrap();
    clients.clear();
    last.stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    assert_eq!(last.read_response().status, 200);
    assert_eq!(Client::connect(server.addr).get("/").status, 200);
    assert!(server.is_running());
}
