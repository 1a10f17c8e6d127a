//! Pipelined requests (raw socket: two requests written at once) are
//! answered without waiting for a delayed ACK.

use super::*;

/// Two requests written at once on one connection (HTTP/1.1 pipelining)
/// are answered at once. Without TCP_NODELAY on the server's sockets the
/// second answer waited for the client's delayed ACK: about 40 ms per
/// round on Linux, every round. The median of 20 rounds must stay far
/// below that.
#[test]
fn pipelined_answers_are_not_held_back() {
    let _one = serial();
    let dir = TempDir::new("faults-pipeline");
    let server = serve(dir.root(), None);
    let conn = TcpStream::connect(server.addr).expect("connect");
    conn.set_nodelay(true).expect("client TCP_NODELAY");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut conn = BufReader::new(conn);
    let one = b"GET /healthz HTTP/1.1\r\nHost: tessera\r\n\r\n";
    let mut rounds = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        conn.get_mut()
            .write_all(&[&one[..], &one[..]].concat())
            .expect("write two requests");
        for n in 1..=2 {
            let (status, _, close) = read_answer(&mut conn).expect("read an answer");
            assert_eq!((status, close), (200, false), "answer {n} of 2");
        }
        rounds.push(started.elapsed());
    }
    rounds.sort();
    let median = rounds[rounds.len() / 2];
    report(&format!(
        "LOAD pipelined: rounds=20 median_ms={:.2} max_ms={:.2}",
        median.as_secs_f64() * 1e3,
        rounds[rounds.len() - 1].as_secs_f64() * 1e3
    ));
    assert!(
        median < Duration::from_millis(20),
        "two pipelined answers took {median:?} (median of 20 rounds): the second one waits for a delayed ACK"
    );
    drop(server);
}
