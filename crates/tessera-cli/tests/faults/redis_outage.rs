//! A private `redis-server` killed twice under load (SIGKILL, then
//! SIGTERM) and restarted on the same port and directory.

use super::*;

struct RedisFault(RedisServer);

impl Fault for RedisFault {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn kill(&mut self, round: u32) -> &'static str {
        let graceful = round % 2 == 1;
        self.0.stop(graceful);
        if graceful {
            "SIGTERM"
        } else {
            "SIGKILL"
        }
    }
    fn restart(&mut self) {
        if let Err(e) = self.0.spawn() {
            panic!("restart redis-server: {e}");
        }
    }
    fn outage(&self) -> Duration {
        Duration::from_millis(2500)
    }
}

#[test]
fn redis_outage_under_load() {
    let _serial = serial();
    if !RedisServer::available_for("the Redis outage test of tessera serve") {
        return;
    }
    let dir = TempDir::new("faults-redis");
    let redis_dir = dir.root().join("redis");
    std::fs::create_dir_all(&redis_dir).expect("redis dir");
    let redis = RedisServer::start(&redis_dir).expect("start redis-server");
    let server = serve(dir.root(), Some(&redis.url()));
    let mut fault = RedisFault(redis);
    store_outage_under_load(&mut fault, &server);
    drop(server);
}
