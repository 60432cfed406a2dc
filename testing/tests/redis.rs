//! The Redis harness (`oidc_refresh_testing::redis`) against a real `redis-server`: start,
//! commands, passwords and ACL users, persistence across a stop or a crash, isolation
//! between servers, TLS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use oidc_refresh_testing::redis::{RedisServer, Resp, pem_pki};

#[test]
fn starts_on_a_port_of_its_own_and_answers_ping() {
    let server = RedisServer::start();
    assert_ne!(server.port(), 6379);
    assert_eq!(server.url(), format!("redis://127.0.0.1:{}/", server.port()));
    assert_eq!(server.command(&["PING"]), Resp::Simple("PONG".into()));

    // Its configuration is the one asked for: its own directory, AOF with fsync on every
    // write, no RDB snapshots.
    let config = |name: &str| match server.command(&["CONFIG", "GET", name]) {
        Resp::Array(Some(items)) => items[1].as_text().unwrap().to_owned(),
        other => panic!("CONFIG GET {name}: {other:?}"),
    };
    assert_eq!(config("appendonly"), "yes");
    assert_eq!(config("appendfsync"), "always");
    assert_eq!(config("save"), "");
    assert_eq!(config("port"), server.port().to_string());
    assert_eq!(std::fs::canonicalize(config("dir")).unwrap(), std::fs::canonicalize(server.dir()).unwrap());
    assert!(server.log().contains("Ready to accept connections"), "log: {}", server.log());
}

#[test]
fn set_get_keys_and_binary_values() {
    let server = RedisServer::start();
    assert_eq!(server.get("missing"), None);
    server.set("session:a", "one");
    server.set("session:b", [0u8, 255, b'\r', b'\n']);
    server.set("other", "x");
    assert_eq!(server.get("session:a").as_deref(), Some(&b"one"[..]));
    assert_eq!(server.get("session:b").as_deref(), Some(&[0u8, 255, b'\r', b'\n'][..]));
    assert_eq!(server.keys("session:*"), ["session:a", "session:b"]);
    assert!(server.del("session:a"));
    assert!(!server.del("session:a"));
    assert_eq!(server.keys("*"), ["other", "session:b"]);
    assert_eq!(server.command(&["INCRBY", "n", "5"]), Resp::Integer(5));
    assert!(server.command(&["NOSUCHCOMMAND"]).error().unwrap().starts_with("ERR unknown command"));

    // A session: a transaction on one connection.
    let mut conn = server.connection();
    assert!(conn.command(&["MULTI"]).is_ok());
    assert_eq!(conn.command(&["SET", "t", "1"]), Resp::Simple("QUEUED".into()));
    assert_eq!(conn.command(&["EXEC"]), Resp::Array(Some(vec![Resp::Simple("OK".into())])));
    assert_eq!(server.get("t").as_deref(), Some(&b"1"[..]));
}

#[test]
fn a_password_is_required() {
    let password = "p@ss word:/%";
    let server = RedisServer::builder().password(password).user("alice", "alice-pw").start();
    assert_eq!(server.url(), format!("redis://:p%40ss%20word%3A%2F%25@127.0.0.1:{}/", server.port()));
    assert_eq!(server.url_for_user("alice"), format!("redis://alice:alice-pw@127.0.0.1:{}/", server.port()));

    let reply = server.command_unauthenticated(&["GET", "k"]);
    assert!(reply.error().is_some_and(|e| e.starts_with("NOAUTH")), "{reply:?}");
    let reply = server.command_unauthenticated(&["SET", "k", "v"]);
    assert!(reply.error().is_some_and(|e| e.starts_with("NOAUTH")), "{reply:?}");

    let mut conn = server.connection_unauthenticated();
    let reply = conn.command(&["AUTH", "wrong"]);
    assert!(reply.error().is_some_and(|e| e.starts_with("WRONGPASS")), "{reply:?}");
    assert!(conn.command(&["AUTH", password]).is_ok());
    assert!(conn.command(&["SET", "k", "v"]).is_ok());

    // The ACL user.
    let mut alice = server.connection_unauthenticated();
    let reply = alice.command(&["AUTH", "alice", "wrong"]);
    assert!(reply.error().is_some_and(|e| e.starts_with("WRONGPASS")), "{reply:?}");
    assert!(alice.command(&["AUTH", "alice", "alice-pw"]).is_ok());
    assert_eq!(alice.command(&["ACL", "WHOAMI"]).as_text(), Some("alice"));
    assert_eq!(alice.command(&["GET", "k"]), Resp::Bulk(Some(b"v".to_vec())));

    // The harness's helpers authenticate by themselves.
    assert_eq!(server.get("k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_restart_keeps_what_was_stored() {
    let mut server = RedisServer::builder().password("pw").start();
    let port = server.port();
    let pid = server.pid().unwrap();
    server.set("kept", "value");
    server.command(&["HSET", "h", "f", "v"]);
    server.restart();
    assert_eq!(server.port(), port);
    assert_ne!(server.pid().unwrap(), pid, "a new process");
    assert_eq!(server.get("kept").as_deref(), Some(&b"value"[..]));
    assert_eq!(server.command(&["HGET", "h", "f"]), Resp::Bulk(Some(b"v".to_vec())));
    assert!(server.dir().join("appendonlydir").is_dir());
    // And it still wants the password.
    let reply = server.command_unauthenticated(&["GET", "kept"]);
    assert!(reply.error().is_some_and(|e| e.starts_with("NOAUTH")), "{reply:?}");
}

#[test]
fn a_stopped_server_is_gone_until_restarted() {
    let mut server = RedisServer::start();
    server.set("k", "v");
    server.stop();
    assert!(!server.is_running());
    assert!(
        TcpStream::connect(("127.0.0.1", server.port())).is_err(),
        "nothing listens on the port of a stopped server"
    );
    assert!(server.log().contains("ready to exit, bye bye"), "graceful shutdown: {}", server.log());
    server.restart();
    assert!(server.is_running());
    assert_eq!(server.get("k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn a_crash_loses_nothing_acknowledged() {
    let mut server = RedisServer::start();
    for i in 0..50 {
        server.set(&format!("k{i}"), format!("v{i}"));
    }
    server.kill();
    assert!(!server.is_running());
    assert!(TcpStream::connect(("127.0.0.1", server.port())).is_err());
    assert!(!server.log().contains("bye bye"), "SIGKILL, not a shutdown: {}", server.log());
    server.restart();
    assert_eq!(server.keys("k*").len(), 50);
    assert_eq!(server.get("k49").as_deref(), Some(&b"v49"[..]));
}

#[test]
fn two_servers_are_separate() {
    let a = RedisServer::start();
    let b = RedisServer::start();
    assert_ne!(a.port(), b.port());
    assert_ne!(a.dir(), b.dir());
    a.set("only-in-a", "1");
    assert_eq!(b.get("only-in-a"), None);
    assert_eq!(a.get("only-in-a").as_deref(), Some(&b"1"[..]));
}

#[test]
fn drop_kills_the_server_and_removes_its_directory() {
    let server = RedisServer::start();
    let port = server.port();
    let dir = server.dir().to_owned();
    drop(server);
    assert!(!dir.exists());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn extra_configuration_directives_apply() {
    let server = RedisServer::builder().config("maxmemory", &["10mb"]).start();
    match server.command(&["CONFIG", "GET", "maxmemory"]) {
        Resp::Array(Some(items)) => assert_eq!(items[1].as_text(), Some("10485760")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls_serves_rediss_only() {
    let pki = pem_pki();
    let mut server = RedisServer::builder().tls(&pki).password("pw").start();
    assert!(server.is_tls());
    assert_eq!(server.url(), format!("rediss://:pw@127.0.0.1:{}/", server.port()));

    // Through TLS (rustls, trusting the test CA): the harness's own client.
    assert_eq!(server.command(&["PING"]), Resp::Simple("PONG".into()));
    server.set("k", "v");
    match server.command(&["CONFIG", "GET", "port"]) {
        Resp::Array(Some(items)) => assert_eq!(items[1].as_text(), Some("0"), "no plain-text port"),
        other => panic!("{other:?}"),
    }

    // Plain text on the TLS port gets no RESP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    plain.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = plain.read_to_end(&mut answer); // closed by the server, or timed out
    assert!(!answer.starts_with(b"+PONG") && !answer.starts_with(b"-NOAUTH"), "{answer:?}");

    // A client that trusts another CA is refused.
    let other = pem_pki();
    let tcp = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(other.client_config(), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let err = tls.write_all(b"*1\r\n$4\r\nPING\r\n").and_then(|()| tls.flush()).and_then(|()| {
        let mut buf = [0u8; 16];
        tls.read(&mut buf).map(|_| ())
    });
    let err = err.expect_err("a certificate from an untrusted CA");
    // Both CAs bear the same name, so rustls finds "the" issuer and rejects its signature.
    assert!(err.to_string().contains("invalid peer certificate"), "{err}");

    // TLS survives a restart, and so does the data.
    server.restart();
    assert_eq!(server.get("k").as_deref(), Some(&b"v"[..]));
}

#[test]
#[should_panic(expected = "Bad directive or wrong number of arguments")]
fn a_server_that_does_not_come_up_is_reported_with_its_output() {
    let _ = RedisServer::builder().config("no-such-directive", &["x"]).start();
}
