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
    proxy(target, None)
}

/// `counting_proxy` carrying at most `bytes_per_sec` each way, like a weak mobile link.
pub fn throttled_proxy(target: &str, bytes_per_sec: u64) -> (String, Arc<AtomicU64>) {
    proxy(target, Some(bytes_per_sec))
}

fn proxy(target: &str, bytes_per_sec: Option<u64>) -> (String, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let target = target.trim_start_matches("http://").to_string();
    let bytes = Arc::new(AtomicU64::new(0));
    let counter = bytes.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let Ok(upstream) = TcpStream::connect(&target) else {
                continue;
            };
            client.set_nodelay(true).unwrap();
            upstream.set_nodelay(true).unwrap();
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                (upstream, client),
            ] {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let started = Instant::now();
                    let mut sent = 0u64;
                    // Small reads keep a throttled link's pace even.
                    let mut buf = vec![0u8; if bytes_per_sec.is_some() { 4096 } else { 65536 }];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 || to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        sent += n as u64;
                        counter.fetch_add(n as u64, Ordering::Relaxed);
                        // Hold the average rate: wait until `sent` bytes are due.
                        if let Some(rate) = bytes_per_sec {
                            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
                            if let Some(wait) = due.checked_sub(started.elapsed()) {
                                std::thread::sleep(wait);
                            }
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    (url, bytes)
}

/// Seconds and bytes on the wire of one phase.
pub struct Measured {
    pub secs: f64,
    pub bytes: u64,
}

/// Times `f` and counts the bytes `counter` saw meanwhile.
pub fn measure(counter: &AtomicU64, f: impl FnOnce()) -> Measured {
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
