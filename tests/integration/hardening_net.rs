//! Defences of the real node (`kadsim::net`) against floods, on the loopback
//! interface: one source IP flooding a node must not keep it from answering
//! another.

use kadsim::kad::NodeId;
use kadsim::net::{Node, NodeConfig};
use kadsim::wire::krpc::{self, Packet, PacketBody, Query};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn query(id: &[u8], t: &[u8], query: Query) -> Vec<u8> {
    krpc::encode(&Packet {
        t: t.to_vec(),
        version: None,
        read_only: false,
        body: PacketBody::Query { id: NodeId::hash_of(id), query },
    })
}

/// Pings `to` from `sock` as a DHT client does (resending every 200 ms);
/// how long until a pong came, or `None` after `limit`.
fn ping_latency(sock: &UdpSocket, to: SocketAddr, round: u32, limit: Duration) -> Option<Duration> {
    let t = round.to_be_bytes();
    let ping = query(b"pinger", &t, Query::Ping);
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while start.elapsed() < limit {
        sock.send_to(&ping, to).expect("send");
        let resend = Instant::now() + Duration::from_millis(200);
        while Instant::now() < resend {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            if let Ok(Packet { t: got, body: PacketBody::Response { .. }, .. }) = krpc::decode(&buf[..n])
                && from == to
                && got == t
            {
                return Some(start.elapsed());
            }
        }
    }
    None
}

/// 100,000 `put`s from 1,000 ports of 127.0.0.1, each under a node ID of
/// its own, at about 20,000 a second; meanwhile a client on 127.0.0.2 pings the node over and over, and
/// every ping is answered within a second.
#[test]
fn a_flood_of_puts_from_one_ip_leaves_pings_from_another_answered_within_1s() {
    let node = Node::start(NodeConfig { seed: Some(77), ..NodeConfig::default() }).expect("the node starts");
    let to = node.local_addr();
    let flooders: Vec<UdpSocket> = (0..1000).map(|_| UdpSocket::bind("127.0.0.1:0").expect("bind")).collect();
    // The flooder gets a real write token first (a get), then floods puts of
    // distinct values: the heaviest kind of query, each with its own target.
    flooders[0].set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
    flooders[0].send_to(&query(b"flood", b"g", Query::Get { target: NodeId::hash_of(b"k") }), to).expect("send");
    let mut buf = [0u8; 2048];
    let token = loop {
        // (The node may first ping the new address, to validate it.)
        let (n, _) = flooders[0].recv_from(&mut buf).expect("a reply to the get");
        if let PacketBody::Response { response, .. } = krpc::decode(&buf[..n]).expect("KRPC").body {
            break response.token.expect("a token");
        }
    };
    let done = Arc::new(AtomicBool::new(false));
    let flood = {
        let done = done.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            for i in 0..100_000u32 {
                // Paced at about 20,000 a second, so that the flood lasts
                // (some 5 s) rather than mostly overflowing the socket buffer.
                if i % 200 == 199 {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let v = format!("flood value {i:>90}").into_bytes();
                let put = Query::Put { token: token.clone(), v, target: None, ttl: None };
                let _ = flooders[i as usize % 1000].send_to(&query(&i.to_be_bytes(), &i.to_be_bytes(), put), to);
            }
            done.store(true, Ordering::SeqCst);
            started.elapsed()
        })
    };
    let pinger = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2 (the loopback network is 127/8)");
    pinger.set_read_timeout(Some(Duration::from_millis(20))).expect("timeout");
    let mut latencies = Vec::new();
    let mut round = 0;
    while !done.load(Ordering::SeqCst) || latencies.len() < 5 {
        round += 1;
        let l = ping_latency(&pinger, to, round, Duration::from_secs(1));
        assert!(l.is_some(), "ping {round} unanswered within 1 s during the flood; before it: {latencies:?}");
        latencies.extend(l);
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = flood.join().expect("the flood thread");
    let (st, stored) = node.stats().expect("stats");
    let worst = latencies.iter().max().copied().unwrap_or_default();
    eprintln!(
        "flood of 100000 puts sent in {took:?}; {} pings, worst {worst:?}; node received {}, rate-limited {}, \
         stored {stored}",
        latencies.len(),
        st.received,
        st.rate_limited
    );
    assert!(st.rate_limited > 0, "the flooding IP was held to its budget: {st:?}");
    node.shutdown();
}

#[test]
fn the_node_command_takes_admission_limits_and_refuses_zero() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim"))
        .args(["node", "--max-per-ip", "0"])
        .output()
        .expect("the kadsim binary runs");
    assert_eq!(out.status.code(), Some(2));
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_kadsim")).args(["node", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(text.contains("--max-per-ip") && text.contains("--max-per-subnet"), "{text}");
}
