//! A private PostgreSQL cluster stopped twice under load with
//! `pg_ctl stop -m immediate` and started again.

use super::*;

struct PgFault(PgCluster);

impl Fault for PgFault {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn kill(&mut self, _round: u32) -> &'static str {
        self.0.stop_immediate();
        "pg_ctl stop -m immediate"
    }
    fn restart(&mut self) {
        if let Err(e) = self.0.start() {
            panic!("restart PostgreSQL: {e}");
        }
    }
    /// Longer than Redis': against a stopped PostgreSQL each request
    /// waits for the pool's acquire timeout (2 s) before its 503.
    fn outage(&self) -> Duration {
        Duration::from_secs(4)
    }
    /// More clients than for Redis, for the same reason: each one waits
    /// ~2 s per request during the outage.
    fn threads(&self) -> usize {
        2 * THREADS
    }
}

#[test]
fn postgres_outage_under_load() {
    let _serial = serial();
    let expected = std::env::var("TESSERA_TEST_POSTGRES_URL").is_ok_and(|v| !v.trim().is_empty());
    if !expected && !in_ci() {
        loud_skip(
            "TESSERA_TEST_POSTGRES_URL is not set: SKIPPING the PostgreSQL outage test of tessera serve",
        );
        return;
    }
    let dir = TempDir::new("faults-postgres");
    let pg_dir = dir.root().join("pg");
    std::fs::create_dir_all(&pg_dir).expect("pg dir");
    let cluster = match PgCluster::create(&pg_dir) {
        Ok(c) => c,
        Err(e) => {
            if in_ci() {
                panic!("cannot create a private PostgreSQL cluster, but CI is set: {e}");
            }
            loud_skip(&format!(
                "cannot create a private PostgreSQL cluster ({e}): SKIPPING the PostgreSQL outage test"
            ));
            return;
        }
    };
    let server = serve(dir.root(), Some(&cluster.url()));
    let mut fault = PgFault(cluster);
    store_outage_under_load(&mut fault, &server);
    drop(server);
}
