//! mcpauth: sign in to OAuth-protected MCP servers, keep the grants in the OS keychain,
//! and bridge those servers to stdio MCP clients.

pub mod config;
pub mod home;
pub mod oauth;
pub mod proxy;
pub mod secret;
pub mod store;
