//! `wtedge`'s library: the thin host around router-core (listeners, proxying, health
//! checks, access log, admin endpoints). The CLI in `main.rs` calls [`run::run`].
