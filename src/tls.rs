//! TLS: PEM loading and the run-time swappable server configuration.
