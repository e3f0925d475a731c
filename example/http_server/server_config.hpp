// http_server: the settings every connection reads (command line options and fixed limits).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace http_server {

struct server_config {
  std::string root; // canonical (realpath), no trailing slash unless it is "/"
  // From accept (first request) or from the first byte of a later one to the end of its
  // header and body: absolute, so a client dripping bytes gains nothing.
  std::chrono::milliseconds request_timeout{10'000};
  // Between keep-alive requests, waiting for the next one to begin.
  std::chrono::milliseconds idle_timeout{30'000};
  // For each write (a header, a 64 KiB file chunk): a client that stops reading is dropped.
  std::chrono::milliseconds send_timeout{30'000};
  std::size_t header_limit = 8 * 1024;        // request line + fields; over it: 431
  std::uint64_t body_limit = 2 * 1024 * 1024; // request body; over it: 413
};

} // namespace http_server
