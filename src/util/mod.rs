//! Pure helpers of the uHTTP Server API: percent decoding, query, cookies, URL, header parsing.
