//! A deadline too far to add to `Instant::now()` (`Duration::MAX`): no overflow, no panic,
//! against a loopback server that answers at once.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use oidc_refresh_core::http::Request;
use oidc_refresh_ureq::{Options, Transport};

const BODY: &str = r#"{"ok":true}"#;

/// Serves one connection: reads the request head, answers 200 with [`BODY`], closes.
fn serve_one() -> (String, std::thread::JoinHandle<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/x", listener.local_addr().expect("address"));
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return false };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut head = Vec::new();
        let mut byte = [0_u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return false,
            }
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        );
        stream.write_all(answer.as_bytes()).is_ok()
    });
    (url, server)
}

#[test]
fn a_deadline_of_duration_max_does_not_overflow() {
    let (url, server) = serve_one();
    let options =
        Options::default().timeout(Duration::MAX).connect_timeout(Duration::MAX).proxy_from_env(false);
    let transport = Transport::new(options).expect("transport");
    let response =
        transport.execute(Request::get(url).body(Vec::new()).expect("request")).expect("an answer");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), BODY.as_bytes());
    assert!(server.join().expect("server thread"));
}
