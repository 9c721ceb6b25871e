//! Editing MCP clients' config files so that they reach remote servers through mcpauth.
