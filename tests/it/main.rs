//! The one integration test binary (see `autotests = false` in Cargo.toml).

mod proxy_fake;
mod proxy_http;
mod proxy_peers;
