//! mcpauth's integration tests: one binary (`autotests = false`), so one link and one run.
//! They talk to Linux peers (a Secret Service on D-Bus, Chromium, `sh`, Node and Python
//! MCP peers), so they are built on Linux only; CI runs the unit tests on macOS and
//! Windows.
#![cfg(target_os = "linux")]

// Support code is shared by every test module; not every helper is used by each of them.
#[allow(dead_code, unused_imports)]
mod support;

mod claude_code;
mod client_key;
mod codex;
mod conformance;
mod damaged_store;
mod doctor;
mod dpop;
mod enterprise;
mod export_import;
mod fakes_selftest;
mod fastmcp;
mod file_modes;
mod generated;
mod headless;
mod hostile;
mod install_clients;
mod install_script;
mod lifecycle;
mod lint;
mod login;
mod migrate;
mod npm_launcher;
mod oidc;
mod packaging;
mod pinned;
mod proxy_cli;
mod proxy_fake;
mod proxy_http;
mod proxy_peers;
mod real_configs;
mod refresh;
mod refusals;
mod secrets;
mod stores;
mod workload;
