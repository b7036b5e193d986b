//! Which servers of a backend an algorithm may pick now, as HAProxy 2.6's
//! `recount_servers()` and `update_backend_weight()` count them: the usable active
//! servers; without any, the first usable backup alone (`fbck`), or every usable
//! backup with `option allbackups`.

use alloc::vec::Vec;

use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::HealthSnapshot;

/// One usable server.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usable {
    /// Position in the backend's server list (HAProxy's `puid` is this plus one).
    pub pos: usize,
    pub id: ServerId,
    /// The user weight (`weight`, or the runtime API's `set server B/S weight`).
    pub weight: u32,
}

/// The usable servers of the group in use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pool {
    /// Usable servers of the group in use (actives, else backups), in file order.
    pub group: Vec<Usable>,
    /// `fbck`: the first usable backup, when it alone takes the traffic.
    pub first_backup: Option<Usable>,
}

impl Pool {
    pub fn of(cfg: &Config, backend: ProxyId, health: &HealthSnapshot) -> Pool {
        let proxy = cfg.proxy(backend);
        let usable = |backup: bool| -> Vec<Usable> {
            proxy
                .servers
                .iter()
                .enumerate()
                .filter(|(_, id)| {
                    cfg.server(**id).params.backup == backup && health.usable(cfg, **id)
                })
                .map(|(pos, &id)| Usable {
                    pos,
                    id,
                    weight: u32::from(health.weight(id)),
                })
                .collect()
        };
        let active = usable(false);
        if !active.is_empty() {
            return Pool {
                group: active,
                first_backup: None,
            };
        }
        let backups = usable(true);
        let first_backup = if proxy.settings.options.allbackups {
            None
        } else {
            backups.first().copied()
        };
        Pool {
            group: backups,
            first_backup,
        }
    }

    /// HAProxy's `tot_used`: servers that take traffic.
    pub fn used(&self) -> usize {
        if self.first_backup.is_some() {
            1
        } else {
            self.group.len()
        }
    }
}
