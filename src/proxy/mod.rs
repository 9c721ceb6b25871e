//! `mcpauth proxy`: a lossless stdio <-> Streamable HTTP / legacy SSE bridge.
