//! Where the health Durable Object lives: `WTEDGE_HEALTH_LOCATION`, a Durable Objects
//! location hint (Cloudflare's region names), chosen near the Wt servers so that its
//! checks measure what the origins' neighbourhood sees. A hint only places an object
//! when it is created, so the object's name carries the hint: changing the hint
//! starts a new object there (with every server in its start-up state).

/// The location hints Durable Objects accept.
pub const HINTS: [&str; 9] = [
    "wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me",
];

/// The object's name and hint for the var's value: empty or absent, the one global
/// object `health` wherever Cloudflare puts it; a known hint, `health-<hint>`
/// placed there; anything else is an error that names the valid hints.
pub fn health_object(var: Option<&str>) -> Result<(String, Option<&'static str>), String> {
    match var.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(("health".to_string(), None)),
        Some(v) => match HINTS.iter().find(|h| h.eq_ignore_ascii_case(v)) {
            Some(h) => Ok((format!("health-{h}"), Some(h))),
            None => Err(format!(
                "WTEDGE_HEALTH_LOCATION {v:?} is not a Durable Objects location hint (one of {})",
                HINTS.join(", ")
            )),
        },
    }
}

/// The value of `name = "value"` in a wrangler.toml's `[vars]` table (the build
/// checks `WTEDGE_HEALTH_LOCATION` there, so that a deploy with a bad hint fails).
pub fn wrangler_var(toml: &str, name: &str) -> Option<String> {
    let mut in_vars = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_vars = line == "[vars]";
            continue;
        }
        if !in_vars {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim() == name {
            let v = v.trim();
            return v
                .strip_prefix('"')
                .and_then(|v| v.split_once('"'))
                .map(|(value, _)| value.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_and_place_the_object() {
        assert_eq!(health_object(None), Ok(("health".into(), None)));
        assert_eq!(health_object(Some(" ")), Ok(("health".into(), None)));
        assert_eq!(
            health_object(Some("WEUR")),
            Ok(("health-weur".into(), Some("weur")))
        );
        let e = health_object(Some("eu-west")).unwrap_err();
        assert!(e.contains("\"eu-west\"") && e.contains("weur"), "{e}");
    }

    #[test]
    fn the_var_is_read_from_the_vars_table_only() {
        let toml = "name = \"x\"\n[build]\nWTEDGE_HEALTH_LOCATION = \"nope\"\n[vars]\n\
                    # a comment\nWTEDGE_FRONTEND = \"\"\n WTEDGE_HEALTH_LOCATION = \"enam\" # near\n";
        assert_eq!(
            wrangler_var(toml, "WTEDGE_HEALTH_LOCATION").as_deref(),
            Some("enam")
        );
        assert_eq!(wrangler_var(toml, "WTEDGE_FRONTEND").as_deref(), Some(""));
        assert_eq!(wrangler_var(toml, "WTEDGE_STATUS_PATH"), None);
        // The repository's own wrangler.toml passes the build's check.
        let ours = include_str!("../../wrangler.toml");
        assert!(health_object(wrangler_var(ours, "WTEDGE_HEALTH_LOCATION").as_deref()).is_ok());
    }
}
