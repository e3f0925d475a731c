// Shared by the HTTP servers (run by run_http.py): the response they all send. The interface is
// the echo servers' (echo_common.hpp): `NAME PORT`, 127.0.0.1, one thread, `port=N` first on
// stdout, TCP_NODELAY on accepted sockets, exit 0 on SIGTERM or SIGINT.
#pragma once

#include "echo_common.hpp"

#include <string_view>

namespace bench {

constexpr std::string_view http_server_name = "bench";
constexpr std::string_view http_content_type = "text/plain";
constexpr std::string_view http_hello_body = "Hello, world!";

/// Byte for byte what http_hello.cpp's Beast response serializes to for an HTTP/1.1 keep-alive
/// request (Beast writes no Connection header then); http_raw_liburing sends it verbatim.
constexpr std::string_view http_canned_response = "HTTP/1.1 200 OK\r\n"
                                                  "Server: bench\r\n"
                                                  "Content-Type: text/plain\r\n"
                                                  "Content-Length: 13\r\n"
                                                  "\r\n"
                                                  "Hello, world!";

} // namespace bench
