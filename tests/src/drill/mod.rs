//! What the fault drills (`tests/drills.rs`) share: a load client that counts every
//! failure by kind, a scripted origin that counts its connections and what it wrote,
//! slowloris clients, clients that leave in each phase of an exchange, requests that
//! abuse trust, and a process's resident memory.

pub mod load;
pub mod memory;
pub mod origin;
pub mod phases;
pub mod slowloris;
pub mod trust;
