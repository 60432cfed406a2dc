//! Shared helpers for transport tests: loopback HTTP(S) servers that misbehave on purpose,
//! TLS certificates made on the spot, and a `tracing` subscriber that records every event.
//!
//! Every server listens on `127.0.0.1:0`, serves from its own threads, and stops by itself:
//! when the test calls [`Server::finish`], when the [`Server`] is dropped, or after
//! [`LIFETIME`] at the latest, whatever the client does.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest any test server lives.
pub const LIFETIME: Duration = Duration::from_secs(10);

/// What a server does on each connection.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Reads the request, writes these bytes, closes.
    Respond(Vec<u8>),
    /// Reads the request, then says nothing until the server stops.
    Silent,
    /// Reads the request and closes without a word.
    Close,
    /// Reads the request, sends `200` headers for a chunked body, then 1000-byte chunks of
    /// spaces until the client goes away or the server stops.
    EndlessChunked,
    /// Reads the request, sends these bytes one at a time, `interval` apart, until they run
    /// out, the client goes away or the server stops.
    Drip {
        /// What is sent, a byte at a time.
        bytes: Vec<u8>,
        /// The pause between two bytes.
        interval: Duration,
    },
    /// Reads the request, sends `head` at once, then `body_byte` every `interval` until the
    /// client goes away or the server stops.
    DripBody {
        /// Sent at once.
        head: Vec<u8>,
        /// Sent again and again.
        body_byte: u8,
        /// The pause between two body bytes.
        interval: Duration,
    },
}

/// One request as a server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The request line and the headers, as sent.
    pub head: String,
    /// The body (as long as `Content-Length` said).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The method, e.g. `POST`.
    pub fn method(&self) -> &str {
        self.head.split(' ').next().unwrap_or_default()
    }
    /// The request target, e.g. `/token`.
    pub fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }
    /// Every value of header `name` (case-insensitive).
    pub fn headers(&self, name: &str) -> Vec<&str> {
        self.head
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }
    /// The one value of header `name`, if sent exactly once.
    pub fn header(&self, name: &str) -> Option<&str> {
        match self.headers(name).as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// What a server saw in its life.
#[derive(Debug, Default)]
pub struct Log {
    /// TCP connections accepted.
    pub connections: usize,
    /// Complete request heads received (after the TLS handshake, for HTTPS).
    pub requests: Vec<Recorded>,
    /// Application bytes received (after the TLS handshake, for HTTPS).
    pub bytes_received: usize,
}

/// A listener bound to `127.0.0.1:0`, not yet serving: its URL is known before its
/// behaviour is chosen (a discovery document names its own server).
pub struct Listener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// Binds a fresh loopback port.
    pub fn bind() -> Listener {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        Listener { listener, addr }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves plain HTTP.
    pub fn serve(self, behaviour: Behaviour) -> Server {
        Server::spawn(self, behaviour, None)
    }

    /// Serves HTTPS with `tls`.
    pub fn serve_tls(self, behaviour: Behaviour, tls: Arc<rustls::ServerConfig>) -> Server {
        Server::spawn(self, behaviour, Some(tls))
    }
}

/// A running test server.
pub struct Server {
    addr: SocketAddr,
    scheme: &'static str,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Log>>,
}

impl Server {
    /// A plain HTTP server with `behaviour` on every connection.
    pub fn start(behaviour: Behaviour) -> Server {
        Listener::bind().serve(behaviour)
    }

    /// An HTTPS server with `behaviour` on every connection.
    pub fn start_tls(behaviour: Behaviour, tls: Arc<rustls::ServerConfig>) -> Server {
        Listener::bind().serve_tls(behaviour, tls)
    }

    /// `SCHEME://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        self.url_with_host("127.0.0.1", path)
    }

    /// `SCHEME://{host}:PORT{path}`, e.g. with `localhost`.
    pub fn url_with_host(&self, host: &str, path: &str) -> String {
        format!("{}://{host}:{}{path}", self.scheme, self.addr.port())
    }

    /// Stops the server (after accepting whatever connections are already waiting) and
    /// returns what it saw.
    pub fn finish(mut self) -> Log {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(thread) => thread.join().expect("the test server's thread panicked"),
            None => Log::default(),
        }
    }

    fn spawn(listener: Listener, behaviour: Behaviour, tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let Listener { listener, addr } = listener;
        listener.set_nonblocking(true).expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let deadline = Instant::now() + LIFETIME;
        let thread = {
            let stop = Arc::clone(&stop);
            thread::spawn(move || accept_loop(&listener, &behaviour, tls.as_ref(), &stop, deadline))
        };
        Server { addr, scheme, stop, thread: Some(thread) }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Threads end by themselves; dropping only hurries them (a failed test).
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(
    listener: &TcpListener,
    behaviour: &Behaviour,
    tls: Option<&Arc<rustls::ServerConfig>>,
    stop: &Arc<AtomicBool>,
    deadline: Instant,
) -> Log {
    let log = Arc::new(Mutex::new(Log::default()));
    let mut handlers = Vec::new();
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                lock(&log).connections += 1;
                let (behaviour, tls, stop, log) =
                    (behaviour.clone(), tls.cloned(), Arc::clone(stop), Arc::clone(&log));
                handlers.push(thread::spawn(move || {
                    // Errors only mean the client went away: nothing to report.
                    let _ = handle(stream, &behaviour, tls, &stop, deadline, &log);
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    break;
                }
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
    stop.store(true, Ordering::SeqCst);
    for h in handlers {
        let _ = h.join();
    }
    std::mem::take(&mut *lock(&log))
}

fn lock(log: &Mutex<Log>) -> std::sync::MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A plain or TLS connection.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

impl Conn {
    /// Closes gracefully: TLS close_notify, then FIN.
    fn close(self) {
        match self {
            Conn::Plain(s) => {
                let _ = s.shutdown(Shutdown::Write);
            }
            Conn::Tls(mut s) => {
                s.conn.send_close_notify();
                let _ = s.flush();
                let _ = s.sock.shutdown(Shutdown::Write);
            }
        }
    }
}

fn handle(
    stream: TcpStream,
    behaviour: &Behaviour,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: &AtomicBool,
    deadline: Instant,
    log: &Mutex<Log>,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    let remaining = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    stream.set_read_timeout(Some(remaining))?;
    stream.set_write_timeout(Some(remaining))?;
    let mut conn = match tls {
        None => Conn::Plain(stream),
        Some(config) => {
            let server = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
            Conn::Tls(Box::new(rustls::StreamOwned::new(server, stream)))
        }
    };
    let request = read_request(&mut conn, log)?;
    lock(log).requests.push(request);
    let running = || !stop.load(Ordering::SeqCst) && Instant::now() < deadline;
    match behaviour {
        Behaviour::Respond(bytes) => {
            conn.write_all(bytes)?;
            conn.flush()?;
        }
        Behaviour::Silent => {
            while running() {
                thread::sleep(Duration::from_millis(10));
            }
        }
        Behaviour::Close => {}
        Behaviour::EndlessChunked => {
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            )?;
            let chunk = format!("3e8\r\n{}\r\n", " ".repeat(1000));
            while running() {
                conn.write_all(chunk.as_bytes())?;
            }
        }
        Behaviour::Drip { bytes, interval } => {
            for b in bytes {
                if !running() {
                    break;
                }
                conn.write_all(&[*b])?;
                conn.flush()?;
                thread::sleep(*interval);
            }
        }
        Behaviour::DripBody { head, body_byte, interval } => {
            conn.write_all(head)?;
            conn.flush()?;
            while running() {
                conn.write_all(&[*body_byte])?;
                conn.flush()?;
                thread::sleep(*interval);
            }
        }
    }
    conn.close();
    Ok(())
}

/// Reads one request: the head up to the blank line, then `Content-Length` bytes of body.
fn read_request(conn: &mut Conn, log: &Mutex<Log>) -> io::Result<Recorded> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if data.len() > 64 * 1024 {
            return Err(io::Error::other("request head too large"));
        }
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        lock(log).bytes_received += n;
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut body = data.split_off(head_end + 4);
    let recorded = Recorded { head, body: Vec::new() };
    let length: usize = recorded.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while body.len() < length {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lock(log).bytes_received += n;
        body.extend_from_slice(&buf[..n]);
    }
    Ok(Recorded { body, ..recorded })
}

/// A complete HTTP/1.1 response with `Content-Length` and `Connection: close`.
pub fn http_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A JSON response.
pub fn json_response(status: u16, body: &str) -> Vec<u8> {
    http_response(status, &[("Content-Type", "application/json")], body.as_bytes())
}

/// An HTML response.
pub fn html_response(status: u16, extra: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut headers = vec![("Content-Type", "text/html")];
    headers.extend_from_slice(extra);
    http_response(status, &headers, body.as_bytes())
}

/// The same body sent with `Transfer-Encoding: chunked`, in chunks of at most 300 bytes.
pub fn chunked_response(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        reason(status)
    )
    .into_bytes();
    for chunk in body.chunks(300) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// A free loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A test PKI: a CA (DER, to trust through the transport's options) and a server
/// configuration whose certificate, signed by that CA, names `localhost` and `127.0.0.1`.
pub struct TestPki {
    /// The CA certificate, DER-encoded.
    pub ca_der: Vec<u8>,
    /// A rustls server configuration presenting the leaf certificate.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Makes a fresh [`TestPki`].
pub fn test_pki() -> TestPki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };

    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "oidc-refresh test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().expect("leaf key");
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned(), PROXIED_NAME.to_owned()])
            .expect("leaf params");
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf certificate");

    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf_cert.der().clone(), ca_cert.der().clone()], key)
        .expect("server certificate");
    TestPki { ca_der: ca_cert.der().to_vec(), server_config: Arc::new(server_config) }
}

/// A name the test certificate holds that is not loopback: a client reaches it only through
/// a [`ConnectProxy`] (the name resolves nowhere).
pub const PROXIED_NAME: &str = "idp.test";

/// An HTTP proxy on loopback: `CONNECT {PROXIED_NAME}:443` is tunnelled to a local server,
/// every other request is answered `502`. It records the request line of every request.
pub struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// A proxy tunnelling `CONNECT {PROXIED_NAME}:443` to `to`, for [`LIFETIME`] at most.
    pub fn start(to: SocketAddr) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            let deadline = Instant::now() + LIFETIME;
            while Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let log = Arc::clone(&log);
                        thread::spawn(move || tunnel(stream, to, &log));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        ConnectProxy { addr, seen }
    }

    /// `http://127.0.0.1:PORT`, for `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request lines received so far.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// One proxy connection: reads the request head, then tunnels or refuses.
fn tunnel(mut client: TcpStream, to: SocketAddr, log: &Mutex<Vec<String>>) {
    let _ = client.set_nonblocking(false);
    let _ = client.set_read_timeout(Some(LIFETIME));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
    log.lock().unwrap_or_else(PoisonError::into_inner).push(line.clone());
    if !line.starts_with(&format!("CONNECT {PROXIED_NAME}:443 ")) {
        let _ =
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    }
    let Ok(server) = TcpStream::connect(to) else { return };
    if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else { return };
    let (mut server_in, mut client_out) = (server, client);
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
}

/// A `tracing` subscriber that keeps every event as text: `target message field=value ...`.
#[derive(Clone, Default)]
pub struct EventRecorder {
    events: Arc<Mutex<Vec<String>>>,
}

impl EventRecorder {
    /// The events recorded so far.
    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for EventRecorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = FieldText(format!("span {}", span.metadata().name()));
        span.record(&mut text);
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(text.0);
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut text = FieldText("span record".to_owned());
        values.record(&mut text);
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(text.0);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = FieldText(event.metadata().target().to_owned());
        event.record(&mut text);
        self.events.lock().unwrap_or_else(PoisonError::into_inner).push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
