//! Rendering a lead package with 200 evidence items (the goal: at most 1 s).

use criterion::{criterion_group, criterion_main, Criterion};

#[path = "../tests/support/mod.rs"]
mod support;

fn bench(c: &mut Criterion) {
    let p = support::package(200, "es");
    c.bench_function("package_html_200_evidence", |b| {
        b.iter(|| rastro_report::package_html(&p))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
