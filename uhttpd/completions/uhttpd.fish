complete -c uhttpd -s b -l bind -d 'Address to listen on, without a port (repeat for several) [default: all interfaces]' -r
complete -c uhttpd -s p -l port -d 'Port to listen on; 0 picks a free port and prints it' -r
complete -c uhttpd -l workers -d 'Number of threads accepting connections on the same port' -r
complete -c uhttpd -l unix -d 'Also listen on a Unix socket at PATH (then on TCP only with --bind)' -r -F
complete -c uhttpd -l unix-mode -d 'Permissions of the --unix socket, in octal' -r
complete -c uhttpd -l cert -d 'PEM certificate chain for HTTPS (needs --key)' -r -F
complete -c uhttpd -l key -d 'PEM private key for HTTPS (needs --cert)' -r -F
complete -c uhttpd -l redirect-http -d 'Also listen for plain HTTP on PORT and redirect it to HTTPS' -r
complete -c uhttpd -l acme -d 'Get and renew the HTTPS certificate for DOMAIN with ACME (repeat for several names)' -r
complete -c uhttpd -l acme-email -d 'Contact address for the ACME account (expiry notices)' -r
complete -c uhttpd -l acme-directory -d 'ACME directory URL of the CA [default: Let\'s Encrypt]' -r -f
complete -c uhttpd -l acme-dir -d 'Directory for the ACME account key and certificates' -r -f -a "(__fish_complete_directories)"
complete -c uhttpd -l acme-ca-root -d 'PEM CA certificate to trust for the ACME directory\'s HTTPS (a test CA)' -r -F
complete -c uhttpd -l upload-dir -d 'Accept uploads into DIR (off by default)' -r -f -a "(__fish_complete_directories)"
complete -c uhttpd -l max-upload-size -d 'Largest file accepted by an upload, e.g. 500M (larger: 413)' -r
complete -c uhttpd -l upload-expiry -d 'Seconds a resumable upload may sit unchanged before it is removed' -r
complete -c uhttpd -l max-open-uploads -d 'Most resumable uploads open (incomplete) at once (more: 503)' -r
complete -c uhttpd -l max-open-uploads-per-client -d 'Most resumable uploads open at once from one client address (more: 429)' -r
complete -c uhttpd -l max-connections -d 'Most connections open at once, per worker' -r
complete -c uhttpd -l keep-alive-timeout -d 'Seconds an idle keep-alive connection stays open' -r
complete -c uhttpd -l keep-alive-max-requests -d 'Requests served on one connection before it is closed (1: no keep-alive)' -r
complete -c uhttpd -l request-timeout -d 'Seconds allowed from a request\'s first byte to the end of its headers (then: 408)' -r
complete -c uhttpd -l send-timeout -d 'Seconds a response may go without the client reading any of it before it is cut off' -r
complete -c uhttpd -l max-headers-length -d 'Largest request line plus headers (larger: 431)' -r
complete -c uhttpd -l max-content-length -d 'Largest request body outside uploads, e.g. for /rpc (larger: 413)' -r
complete -c uhttpd -l max-connections-per-ip -d 'Most connections open at once from one client address, over all workers (more: 429)' -r
complete -c uhttpd -l rate-limit -d 'Requests allowed per client address, e.g. 10/s or 600/m (more: 429 with Retry-After)' -r
complete -c uhttpd -l rate-burst -d 'Requests a client may make at once under --rate-limit [default: the rate\'s N]' -r
complete -c uhttpd -l limit-rate -d 'Bytes per second each connection\'s downloads are sent at, at most, e.g. 500K or 2M' -r
complete -c uhttpd -l cache-control -d 'Cache-Control sent with every file [default: no-cache for HTML, max-age=600 for others]' -r
complete -c uhttpd -l index -d 'File served for a directory, tried in order (repeat for several) [default: index.html, index.htm]' -r
complete -c uhttpd -l spa -d 'Single-page app: unknown pages a browser asks for get FILE (200)' -r
complete -c uhttpd -l 404 -d 'Page sent with every 404 of a missing file (config key: not_found)' -r
complete -c uhttpd -l mime -d 'Send files with extension EXT as TYPE, e.g. md=text/markdown (repeat for several)' -r
complete -c uhttpd -l header -d 'Add a header to every answer, e.g. "X-Frame-Options: DENY" (repeat for several)' -r
complete -c uhttpd -l cors -d 'Let scripts of these origins read the files (comma-separated, or *)' -r
complete -c uhttpd -l compress-cache -d 'Memory for files compressed by --compress, e.g. 64M; the oldest go first' -r
complete -c uhttpd -l trusted-proxy -d 'Trust X-Forwarded-For from this proxy address (repeat for several)' -r
complete -c uhttpd -l auth-file -d 'Require an HTTP Basic login from the users listed in FILE' -r -F
complete -c uhttpd -l health -d 'Answer health checks at PATH with JSON, e.g. /healthz (off by default)' -r
complete -c uhttpd -l drain -d 'On SIGTERM, keep serving SECS seconds with health failing, then stop' -r
complete -c uhttpd -l metrics -d 'Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9100 (off by default)' -r
complete -c uhttpd -s c -l config -d 'Read settings from a TOML file; options given here override it' -r -F
complete -c uhttpd -l log-format -d 'Format of the access log, one line per response on stderr' -r -f -a "short\t'uhttpd\'s own line, with the duration, as a log record'
common\t'Common Log Format, as nginx and Apache write it'
combined\t'Combined Log Format (common, then referer and user agent)'
json\t'One JSON object per line'"
complete -c uhttpd -l acme-staging -d 'Use Let\'s Encrypt\'s staging CA (untrusted certificates, for trials)'
complete -c uhttpd -l overwrite -d 'Let an upload replace an existing file (otherwise: 409 Conflict)'
complete -c uhttpd -l no-listing -d 'Do not list directories that have no index file (answer 404)'
complete -c uhttpd -l no-archive -d 'Do not offer directories as .tar / .zip downloads (?download=tar|zip)'
complete -c uhttpd -l qr -d 'Print a QR code of the server\'s URL at start-up; listings show one of their own URL'
complete -c uhttpd -l compress -d 'Compress text, JSON, JavaScript, CSS, SVG, WASM... on the fly for clients that accept it'
complete -c uhttpd -l no-precompressed -d 'Do not send precompressed siblings (FILE.br, FILE.zst, FILE.gz) for FILE'
complete -c uhttpd -l no-rpc -d 'Turn off the /rpc endpoint that echoes requests back as JSON'
complete -c uhttpd -l proxy-protocol -d 'Every connection begins with a PROXY protocol header (v1 or v2) from a --trusted-proxy'
complete -c uhttpd -l auth-uploads-only -d 'With --auth-file: reading stays public, only uploads need a login'
complete -c uhttpd -s q -l quiet -d 'Log less: -q hides the access log, -qq warnings, -qqq errors'
complete -c uhttpd -s v -l verbose -d 'Log more: -v adds debug messages, -vv traces (RUST_LOG also works)'
complete -c uhttpd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uhttpd -s V -l version -d 'Print version'
