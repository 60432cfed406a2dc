//! Proxies from the environment: used for remote hosts, never for loopback ones.
//!
//! The environment is read when a `Transport` is built, and changing this process's
//! environment is not safe while other tests run, so the test runs itself again as a child
//! process with `HTTPS_PROXY` pointing at a fake proxy on loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use oidc_refresh_ureq::core::http::Request;
use oidc_refresh_ureq::core::{Error, TransportErrorKind};
use oidc_refresh_ureq::{Options, Transport};

const CHILD: &str = "OIDC_REFRESH_UREQ_PROXY_TEST_TARGET";

/// Accepts connections for up to 5 s (or until `expected` were served), reads one request
/// head from each, answers `response`, and returns the request lines it saw.
fn serve(listener: TcpListener, expected: usize, response: &'static [u8]) -> JoinHandle<Vec<String>> {
    listener.set_nonblocking(true).expect("nonblocking");
    thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = Vec::new();
        while seen.len() < expected && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => seen.push(answer(stream, response)),
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
        seen
    })
}

fn answer(mut stream: TcpStream, response: &[u8]) -> String {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(response);
    String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_environment_proxy_is_used_for_remote_hosts_and_never_for_loopback() {
    if let Ok(target) = std::env::var(CHILD) {
        return child(&target);
    }
    let proxy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (proxy_addr, target_addr) = (proxy.local_addr().expect("addr"), target.local_addr().expect("addr"));
    let proxy =
        serve(proxy, 1, b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let target = serve(target, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    for name in ["ALL_PROXY", "all_proxy", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"]
    {
        command.env_remove(name);
    }
    let output = command
        .args([
            "--exact",
            "the_environment_proxy_is_used_for_remote_hosts_and_never_for_loopback",
            "--nocapture",
        ])
        .env(CHILD, format!("http://{target_addr}/"))
        .env("HTTPS_PROXY", format!("http://{proxy_addr}"))
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let proxied = proxy.join().expect("proxy thread");
    assert_eq!(proxied.len(), 1, "{proxied:?}");
    assert!(proxied[0].starts_with("CONNECT example.invalid:443 "), "{proxied:?}");
    let direct = target.join().expect("target thread");
    assert_eq!(direct, ["GET / HTTP/1.1"], "the loopback target must be reached directly");
}

fn child(target: &str) {
    let transport = Transport::new(Options::default().timeout(Duration::from_secs(3))).expect("transport");
    assert!(format!("{transport:?}").contains("proxy: Some(\"127.0.0.1:"), "{transport:?}");
    assert!(!format!("{:?}", Transport::new(Options::default().proxy_from_env(false))).contains("Some"));

    // Loopback: straight to the target, although a proxy is configured.
    let response =
        transport.execute(Request::get(target).body(Vec::new()).expect("request")).expect("direct");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body().as_slice(), b"{}");

    // A remote host: through the proxy, which refuses the tunnel.
    let request = Request::get("https://example.invalid/").body(Vec::new()).expect("request");
    match transport.execute(request) {
        Err(Error::Transport(t)) => assert_eq!(t.kind(), TransportErrorKind::Connect, "{t}"),
        other => panic!("expected a proxy failure, got {other:?}"),
    }
}
