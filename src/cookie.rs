//! Cookies: the `Set-Cookie` header with its attributes.
