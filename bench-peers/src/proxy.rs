//! Counting what crosses the wire: a TCP proxy in front of a server that counts every byte in
//! both directions (bodies and HTTP headers alike), so each system in the benchmark is measured
//! the same way, and the timing of one phase with that counter.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Forwards every TCP connection on a fresh loopback port to `target` (`http://127.0.0.1:port`),
/// counting the bytes that cross in both directions. Returns the proxy's `http://127.0.0.1:port`
/// and the counter. The proxy lives as long as the process.
pub fn counting_proxy(target: &str) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_string();
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let upstream = TcpStream::connect(&target).unwrap();
            client.set_nodelay(true).unwrap();
            upstream.set_nodelay(true).unwrap();
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                (upstream, client),
            ] {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    (url, bytes)
}

/// Seconds and bytes on the wire of one phase.
pub(crate) struct Measured {
    pub(crate) secs: f64,
    pub(crate) bytes: u64,
}

/// Times `f` and counts the bytes `counter` saw meanwhile.
pub(crate) fn measure(counter: &AtomicU64, f: impl FnOnce()) -> Measured {
    let before = counter.load(Ordering::SeqCst);
    let t = Instant::now();
    f();
    let secs = t.elapsed().as_secs_f64();
    // The proxy's threads may still be counting the last response's tail.
    std::thread::sleep(Duration::from_millis(50));
    Measured {
        secs,
        bytes: counter.load(Ordering::SeqCst) - before,
    }
}
