//! The three configs of the Wt wiki page load as published, with the warnings
//! the design asks for.

use router_core::{DiagnosticKind, parse};

fn seed(name: &str) -> String {
    let path = format!(
        "{}/../tests/corpus/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn kinds(name: &str) -> Vec<(u32, DiagnosticKind)> {
    match parse(name, &seed(name)) {
        Ok(p) => p.warnings.iter().map(|w| (w.line, w.kind)).collect(),
        Err(e) => panic!("{name} must load:\n{e}"),
    }
}

#[test]
fn seed1_listen_address_and_legacy_timeouts_warn() {
    let k = kinds("seed1.cfg");
    let legacy: Vec<u32> = k
        .iter()
        .filter(|(_, k)| *k == DiagnosticKind::Legacy)
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(
        legacy,
        [20, 21, 22, 23],
        "contimeout, clitimeout, srvtimeout, listen ADDR"
    );
    let parsed = parse("seed1.cfg", &seed("seed1.cfg")).unwrap_or_else(|e| panic!("{e}"));
    let listen = &parsed.config.proxies[0];
    assert_eq!(listen.binds.len(), 1);
    assert_eq!(listen.binds[0].port, 8181);
    assert_eq!(listen.settings.timeouts.connect, Some(5000));
    assert_eq!(listen.settings.timeouts.client, Some(50000));
    assert_eq!(listen.settings.timeouts.server, Some(50000));
}

#[test]
fn seed2_loads_with_legacy_warnings_and_the_drain_trap() {
    let k = kinds("seed2.cfg");
    let legacy = k
        .iter()
        .filter(|(_, k)| *k == DiagnosticKind::Legacy)
        .count();
    assert_eq!(legacy, 3, "{k:?}");
    // `use_backend bck1 if srv1_up srv1` and the same for bck2: both guarded by
    // nbsrv() of their own backend, which draining sets to 0.
    let drain: Vec<u32> = k
        .iter()
        .filter(|(_, k)| *k == DiagnosticKind::DrainBreaksAffinity)
        .map(|(l, _)| *l)
        .collect();
    assert_eq!(drain.len(), 2, "{k:?}");
    assert_eq!(k.len(), 5, "{k:?}");
}

#[test]
fn seed3_borrows_the_frontend_acl_with_a_warning() {
    let k = kinds("seed3.cfg");
    let cross: Vec<u32> = k
        .iter()
        .filter(|(_, k)| *k == DiagnosticKind::CrossSectionAcl)
        .map(|(l, _)| *l)
        .collect();
    // `use-server Wt_Live unless is_dev_URL` and `use-server Wt_Dev if is_dev_URL`:
    // the first use borrows the ACL, the second finds it borrowed already.
    assert_eq!(cross.len(), 1, "{k:?}");
}
