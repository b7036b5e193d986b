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
}
