complete -c uhttpd -s b -l bind -d 'Address to listen on, without a port (repeat for several) [default: all interfaces]' -r
complete -c uhttpd -s p -l port -d 'Port to listen on; 0 picks a free port and prints it' -r
complete -c uhttpd -l workers -d 'Number of threads accepting connections on the same port' -r
complete -c uhttpd -l cert -d 'PEM certificate chain for HTTPS (needs --key)' -r -F
complete -c uhttpd -l key -d 'PEM private key for HTTPS (needs --cert)' -r -F
complete -c uhttpd -l redirect-http -d 'Also listen for plain HTTP on PORT and redirect it to HTTPS' -r
complete -c uhttpd -l upload-dir -d 'Accept uploads into DIR (off by default)' -r -f -a "(__fish_complete_directories)"
complete -c uhttpd -l max-upload-size -d 'Largest file accepted by an upload, e.g. 500M (larger: 413)' -r
complete -c uhttpd -l max-connections -d 'Most connections open at once, per worker' -r
complete -c uhttpd -l keep-alive-timeout -d 'Seconds an idle keep-alive connection stays open' -r
complete -c uhttpd -l keep-alive-max-requests -d 'Requests served on one connection before it is closed (1: no keep-alive)' -r
complete -c uhttpd -l request-timeout -d 'Seconds allowed from a request\'s first byte to the end of its headers (then: 408)' -r
complete -c uhttpd -l send-timeout -d 'Seconds a response may go without the client reading any of it before it is cut off' -r
complete -c uhttpd -l max-headers-length -d 'Largest request line plus headers (larger: 431)' -r
complete -c uhttpd -l max-content-length -d 'Largest request body outside uploads, e.g. for /rpc (larger: 413)' -r
complete -c uhttpd -l cache-control -d 'Cache-Control sent with every file [default: no-cache for HTML, max-age=600 for others]' -r
complete -c uhttpd -l compress-cache -d 'Memory for files compressed by --compress, e.g. 64M; the oldest go first' -r
complete -c uhttpd -l trusted-proxy -d 'Trust X-Forwarded-For from this proxy address (repeat for several)' -r
complete -c uhttpd -l auth-file -d 'Require an HTTP Basic login from the users listed in FILE' -r -F
complete -c uhttpd -s c -l config -d 'Read settings from a TOML file; options given here override it' -r -F
complete -c uhttpd -l overwrite -d 'Let an upload replace an existing file (otherwise: 409 Conflict)'
complete -c uhttpd -l no-listing -d 'Do not list directories that have no index.html (answer 404)'
complete -c uhttpd -l compress -d 'Compress text, JSON, JavaScript, CSS, SVG, WASM... on the fly for clients that accept it'
complete -c uhttpd -l no-precompressed -d 'Do not send precompressed siblings (FILE.br, FILE.zst, FILE.gz) for FILE'
complete -c uhttpd -l no-rpc -d 'Turn off the /rpc endpoint that echoes requests back as JSON'
complete -c uhttpd -l auth-uploads-only -d 'With --auth-file: reading stays public, only uploads need a login'
complete -c uhttpd -s q -l quiet -d 'Log less: -q hides the access log, -qq warnings, -qqq errors'
complete -c uhttpd -s v -l verbose -d 'Log more: -v adds debug messages, -vv traces (RUST_LOG also works)'
complete -c uhttpd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c uhttpd -s V -l version -d 'Print version'
