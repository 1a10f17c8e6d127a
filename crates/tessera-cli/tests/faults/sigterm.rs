//! SIGTERM with a request in flight, and with one that never completes
//! (raw sockets: the requests stay half-sent on purpose).

use super::*;

/// SIGTERM: the server stops accepting, closes idle connections, finishes
/// the request in flight, and exits 0; a request that never completes holds
/// the exit only for `shutdown_grace_seconds`.
#[test]
fn sigterm_finishes_in_flight_requests_within_the_grace() {
    let _one = serial();
    let dir = TempDir::new("faults-sigterm");
    let started = Instant::now();
    let mut server = serve_with(dir.root(), None, &[("TESSERA_SHUTDOWN_GRACE_SECONDS", "3")]);
    let term = |pid: u32| {
        let ok = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -TERM {pid}");
    };
    let wait_exit = |server: &mut Tessera, within: Duration| {
        let t = Instant::now();
        while t.elapsed() < within {
            if let Some(status) = server.try_exit() {
                return Some((status, t.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    };
    let mut busy = challenge_in_flight(server.addr, 2);
    let mut idle = TcpStream::connect(server.addr).expect("connect");
    std::thread::sleep(Duration::from_millis(300));
    term(server.pid());
    std::thread::sleep(Duration::from_millis(300));
    let refused = TcpStream::connect_timeout(&server.addr, Duration::from_secs(1)).is_err();
    idle.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let idle_closed = matches!(idle.read(&mut [0u8; 16]), Ok(0) | Err(_));
    busy.write_all(b"}").expect("rest of the body");
    let mut reader = BufReader::new(busy.try_clone().expect("clone"));
    reader
        .get_mut()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let in_flight = read_answer(&mut reader).map(|(s, _, _)| s).ok();
    let exit = wait_exit(&mut server, Duration::from_secs(5));

    // A request that never completes: the exit waits for the grace only.
    let mut server2 = serve_with(dir.root(), None, &[("TESSERA_SHUTDOWN_GRACE_SECONDS", "2")]);
    // A body that never ends.
    let _stuck = challenge_in_flight(server2.addr, 50);
    std::thread::sleep(Duration::from_millis(300));
    term(server2.pid());
    let bounded = wait_exit(&mut server2, Duration::from_secs(6));
    report(&format!(
        "FAULT sigterm: in_flight_answer={in_flight:?} refused_new={refused} idle_closed={idle_closed} exit={:?} stuck_request_exit={:?} (grace 2 s) runtime_s={:.1}",
        exit.map(|(s, t)| (s.code(), t.as_millis())),
        bounded.map(|(s, t)| (s.code(), t.as_millis())),
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(in_flight, Some(200), "{}", server.log_tail());
    assert!(refused, "still accepting after SIGTERM");
    assert!(idle_closed, "idle connection kept open after SIGTERM");
    let (status, _) = exit.expect("exited after finishing the request");
    assert_eq!(status.code(), Some(0));
    let (status, took) = bounded.expect("exited within the grace");
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(4), "{took:?}");
}
