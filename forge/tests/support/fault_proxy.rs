//! A loopback TCP proxy in front of the real registry that misbehaves on purpose: it answers
//! HTTP 500 or 404, or resets the connection, for the first N connections (or all of them),
//! then forwards bytes unchanged. It exercises forge's retry and error paths against the
//! real registry behind it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer `HTTP/1.1 <status>` and close.
    Status(u16),
    /// Read one byte and close with data unread, which makes the kernel send a TCP RST.
    Reset,
}

/// A running proxy; `addr` is `127.0.0.1:PORT`.
pub struct FaultProxy {
    pub addr: String,
    pub faults_served: Arc<AtomicUsize>,
}

/// At most this many connections are handled, so a runaway client cannot keep it busy.
const MAX_CONNECTIONS: usize = 2000;

impl FaultProxy {
    /// Proxies to `upstream`; the first `faulty` connections get `fault`.
    pub fn start(upstream: &str, fault: Fault, faulty: usize) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let upstream = upstream.to_string();
        let faults_served = Arc::new(AtomicUsize::new(0));
        let served = faults_served.clone();
        thread::spawn(move || {
            for (n, conn) in listener.incoming().take(MAX_CONNECTIONS).enumerate() {
                let Ok(client) = conn else { continue };
                if n < faulty {
                    served.fetch_add(1, Ordering::SeqCst);
                    thread::spawn(move || inject(client, fault));
                } else {
                    let upstream = upstream.clone();
                    thread::spawn(move || forward(client, &upstream));
                }
            }
        });
        FaultProxy { addr, faults_served }
    }
}

fn inject(mut client: TcpStream, fault: Fault) {
    match fault {
        Fault::Reset => {
            let mut one = [0u8; 1];
            let _ = client.read(&mut one);
        }
        Fault::Status(code) => {
            // Read the request head (bounded) so the client is waiting for an answer.
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match client.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            // Plain text, as a web server that is not a registry (or a failing proxy) answers.
            let body = format!("injected {code}\n");
            let _ = write!(client, "HTTP/1.1 {code} Injected\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = client.shutdown(Shutdown::Write);
            // Drain whatever body the client still sends so the close is orderly.
            let _ = client.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
        }
    }
}

fn forward(client: TcpStream, upstream: &str) {
    let Ok(server) = TcpStream::connect(upstream) else { return };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (mut s_read, mut c_write) = (server, client);
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut s_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = up.join();
}
