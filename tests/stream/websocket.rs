//! WebSocket sessions.
