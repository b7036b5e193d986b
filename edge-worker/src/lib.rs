//! Cloudflare Worker host (stub until its issue lands).
