//! Test support shared by every integration test: the loopback OAuth + MCP fake
//! ([`Fixture`]) and the harness that runs the real `mcpauth` binary ([`TestEnv`]).
//!
//! The fake exists because no real authorization server a user has will produce the
//! hostile and broken answers mcpauth must refuse; it follows the RFCs closely and
//! records every request so tests can assert on what mcpauth sent.

mod auth;
pub mod cli;
pub mod fixture;
pub mod http;
mod mcp;

pub use cli::{RunOutput, TestEnv};
pub use fixture::{
    AuthMethod, AuthorizeOutcome, BrokenMetadata, ClientKind, Counters, DeviceState, Endpoint,
    Fixture, Knobs, Recorded, ResourceMismatch, Side, TransientFailure, Variant,
};
