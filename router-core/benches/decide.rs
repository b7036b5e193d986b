//! ns per decision on the wiki's third config, and parse time of the three seeds.
//! Run: `cargo bench -p router-core --bench decide`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use router_core::{HealthSnapshot, LocalTickets, RequestFacts, decide, parse};

fn seed(name: &str) -> String {
    let path = format!(
        "{}/../tests/corpus/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let seeds: Vec<(String, String)> = ["seed1.cfg", "seed2.cfg", "seed3.cfg"]
        .iter()
        .map(|n| (n.to_string(), seed(n)))
        .collect();
    for (name, text) in &seeds {
        c.bench_function(&format!("parse/{name}"), |b| {
            b.iter(|| parse(black_box(name), black_box(text)).map(|p| p.config.servers.len()))
        });
    }

    let parsed = parse("seed3.cfg", &seeds[2].1).unwrap_or_else(|e| panic!("{e}"));
    let cfg = &parsed.config;
    let fe = cfg
        .default_frontend()
        .unwrap_or_else(|| panic!("no frontend"));
    let health = HealthSnapshot::all_up(cfg);
    let tickets = LocalTickets::new(cfg);
    let src = "10.1.2.3:50000".parse().unwrap_or_else(|e| panic!("{e}"));
    let dst = "10.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}"));
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: [Case<'_>; 3] = [
        (
            "redirect",
            "/",
            &[
                ("Host", "www.sample.com"),
                ("User-Agent", "bench"),
                ("Accept", "*/*"),
            ],
        ),
        (
            "forward-wt1",
            "/wt1/?wtd=wt1T03a3rAGfn1ZKEkN&request=style&page=1",
            &[
                ("Host", "www.sample.com"),
                ("User-Agent", "bench"),
                ("Accept", "*/*"),
            ],
        ),
        (
            "forward-dev",
            "/wt1/app?x=1",
            &[
                ("Host", "dev.sample.com"),
                ("User-Agent", "bench"),
                ("Accept", "*/*"),
            ],
        ),
    ];
    // Reference work in the same run, to read figures as ratios on a noisy
    // machine: format the request line and headers into a buffer, as any proxy
    // does once per request.
    let (_, ref_target, ref_headers) = cases[1];
    c.bench_function("reference/format-request", |b| {
        b.iter(|| {
            use std::fmt::Write;
            let mut out = String::with_capacity(256);
            let _ = write!(out, "GET {} HTTP/1.1\r\n", black_box(ref_target));
            for (n, v) in black_box(ref_headers) {
                let _ = write!(out, "{n}: {v}\r\n");
            }
            out.len()
        })
    });
    for (name, target, headers) in cases {
        let req = RequestFacts {
            method: "GET",
            target,
            version: "HTTP/1.1",
            headers,
            src,
            dst,
            tls: false,
        };
        c.bench_function(&format!("decide/seed3/{name}"), |b| {
            b.iter(|| {
                let d = decide(cfg, fe, black_box(&req), &health, &tickets, None);
                black_box(d.status())
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
