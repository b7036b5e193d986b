//! `nbsrv(backend)`: how many servers of a backend are usable, counted as
//! HAProxy's `be_usable_srv()`: usable active servers; if none, the backup
//! servers (only one when `option allbackups` is off).

use crate::config::model::{Config, ProxyId};
use crate::health::HealthSnapshot;

/// Usable servers in `backend`.
pub fn count(cfg: &Config, health: &HealthSnapshot, backend: ProxyId) -> i64 {
    let proxy = cfg.proxy(backend);
    let mut active = 0i64;
    let mut backups = 0i64;
    for &s in &proxy.servers {
        if health.usable(cfg, s) {
            if cfg.server(s).params.backup {
                backups += 1;
            } else {
                active += 1;
            }
        }
    }
    if active > 0 {
        active
    } else if backups > 0 && !proxy.settings.options.allbackups {
        1
    } else {
        backups
    }
}
