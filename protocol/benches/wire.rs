//! Throughput of the frame path a unit runs every polltime: encode and seal a
//! unit hello, and open and decode one, with and without a failover key.
//!
//! ```text
//! cargo bench -p fover-protocol --bench wire -- --warm-up-time 1 --measurement-time 3
//! ```

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use fover_protocol::fuzzing::sample_message;
use fover_protocol::types::Role;
use fover_protocol::wire::Kind;
use fover_protocol::wire::auth::{FailoverKey, Session};
use std::hint::black_box;

fn hello(c: &mut Criterion) {
    let key = FailoverKey::secret("bench-key").unwrap();
    let message = sample_message(Kind::UnitHello);
    let mut group = c.benchmark_group("unit hello");
    group.throughput(Throughput::Elements(1));
    for (name, key) in [("keyed", Some(&key)), ("unkeyed", None)] {
        let mut tx = Session::new(Role::Primary, 1, key);
        group.bench_function(format!("encode+seal/{name}"), |b| b.iter(|| tx.seal(black_box(message.clone()))));

        // Each frame opens once (the keyed session refuses replays): seal
        // fresh ones outside the timed routine.
        let mut tx = Session::new(Role::Primary, 2, key);
        let mut rx = Session::new(Role::Secondary, 3, key);
        group.bench_function(format!("open+decode/{name}"), |b| {
            b.iter_batched(
                || tx.seal(message.clone()),
                |bytes| rx.open(black_box(&bytes)).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, hello);
criterion_main!(benches);
