//! WebSocket (RFC 6455), sans-IO: handshake and frame codec.
