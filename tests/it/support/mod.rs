//! Test support shared by every integration test: the loopback OAuth + MCP fake
//! ([`Fixture`]) and the harness that runs the real `mcpauth` binary ([`TestEnv`]).
//!
//! The fake exists because no real authorization server a user has will produce the
//! hostile and broken answers mcpauth must refuse; it follows the RFCs closely and
//! records every request so tests can assert on what mcpauth sent.
//!
//! A typical mcpauth test:
//!
//! ```ignore
//! let fx = Fixture::start(Knobs { rotate_refresh_tokens: true, ..Knobs::variant(Variant::IssuerWithPath) });
//! let env = TestEnv::new();
//! env.add_server("demo", &fx.mcp_url());
//! let out = env.run(&["login", "demo"]);
//! assert_eq!(out.code, Some(0), "{}", out.stderr);
//! out.assert_no_secret(&fx.secrets_seen());
//! let authorize = &fx.requests_to(Endpoint::Authorize)[0];
//! assert_eq!(authorize.query("resource"), Some(fx.mcp_url()));
//! assert!(env.browser_page().unwrap().contains("signed in"));
//! ```
//!
//! Knobs set at start shape the layout (`variant`, `mcp_path`); every other knob can be
//! flipped mid-test with [`Fixture::update`] (e.g. make the next two token requests 503).

mod auth;
pub mod bundles;
pub mod cli;
pub mod fixture;
pub mod http;
pub mod keys;
mod mcp;

pub use cli::{RunOutput, TestEnv};
pub use fixture::{
    AuthMethod, AuthorizeOutcome, BrokenMetadata, ClientKind, Counters, DeviceGrant, DeviceState,
    Endpoint, Fixture, Knobs, ProviderQuirks, Recorded, ResourceMismatch, Side, TransientFailure,
    Variant,
};
