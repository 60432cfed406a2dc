//! Fault servers for the transport tests: tokio listeners on `127.0.0.1:0` that serve a
//! bounded number of connections and stop by themselves.

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use oidc_refresh_core::{ClientConfig, Error, TransportErrorKind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long a server waits for its connection before giving up.
pub(crate) const ACCEPT_WINDOW: Duration = Duration::from_secs(10);

/// A token response that rotates the refresh token.
pub(crate) const TOKEN_BODY: &str =
    r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#;

/// What a server received: the request head (request line and headers) and the body.
#[derive(Debug)]
pub(crate) struct Captured {
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl Captured {
    pub(crate) fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or_default()
    }

    /// The values of header `name` (case-insensitive), in order.
    pub(crate) fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let all = self.headers(name);
        assert!(all.len() <= 1, "header {name} sent {} times", all.len());
        all.first().copied()
    }
}

/// Reads one HTTP/1.1 request (head, then a `Content-Length` body).
pub(crate) async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Captured> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut captured = Captured { head, body: buf[head_end..].to_vec() };
    let length: usize = captured.header("content-length").map_or(0, |v| v.parse().unwrap_or(0));
    while captured.body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        captured.body.extend_from_slice(&chunk[..n]);
    }
    Ok(captured)
}

/// A listener on `127.0.0.1:0`.
pub(crate) async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    (listener, addr)
}

/// Serves one connection: reads the request, then hands the stream to `respond`.
/// The handle yields what was received (`None` if nothing came within the window).
pub(crate) async fn serve_one<F, Fut>(respond: F) -> (SocketAddr, JoinHandle<Option<Captured>>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (listener, addr) = listener().await;
    let handle = tokio::spawn(async move {
        let (mut stream, _) = tokio::time::timeout(ACCEPT_WINDOW, listener.accept()).await.ok()?.ok()?;
        let captured = tokio::time::timeout(ACCEPT_WINDOW, read_request(&mut stream)).await.ok()?.ok()?;
        respond(stream).await;
        Some(captured)
    });
    (addr, handle)
}

/// Serves one connection with a fixed raw response, then closes it.
pub(crate) async fn serve_raw(response: Vec<u8>) -> (SocketAddr, JoinHandle<Option<Captured>>) {
    serve_one(move |mut stream| async move {
        let _ = stream.write_all(&response).await;
        let _ = stream.shutdown().await;
    })
    .await
}

/// A complete HTTP/1.1 response with a `Content-Length` body.
pub(crate) fn response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status_line}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A JSON 200 response.
pub(crate) fn json_ok(body: &str) -> Vec<u8> {
    response("200 OK", &[("Content-Type", "application/json")], body.as_bytes())
}

/// A public client of the loopback token endpoint at `addr`.
pub(crate) fn client(addr: SocketAddr) -> ClientConfig {
    ClientConfig::new(&format!("http://{addr}/oauth/token"), "my-app").expect("loopback endpoint")
}

/// The transport error kind of `e`, if it is one.
pub(crate) fn kind(e: &Error) -> Option<TransportErrorKind> {
    match e {
        Error::Transport(t) => Some(t.kind()),
        _ => None,
    }
}
