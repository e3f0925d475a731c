// http_server: what a GET or HEAD target names. Percent-decoding and traversal checks, the file
// opened under the document root, the Range header, HTTP dates. Plain POSIX, no Beast.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <utility>

namespace http_server {

/// A file descriptor closed on destruction unless released.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~unique_fd() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }

private:
  void reset() noexcept;
  int fd_ = -1;
};

/// A regular file under the root, open for reading (status 200), or why not (400, 404).
struct file_target {
  unsigned status = 404;
  unique_fd fd;
  std::uint64_t size = 0;
  std::time_t modified = 0;
  std::string_view content_type;
};

/// Maps a request-target to a file under `root` (canonical, see server_config). The query
/// string is ignored. Status:
///  400 the target is not origin-form ("/..."), has a bad %-escape, an encoded '/' (%2f), a NUL
///      or a backslash (raw or %-encoded), or a "." or ".." segment (also as %2e).
///  404 nothing there; not a regular file; a directory without index.html; a path that resolves
///      (through symlinks, with realpath) to somewhere outside the root.
file_target open_target(std::string_view target, const std::string& root);

/// What a Range header asks of a representation of `size` bytes.
struct byte_range {
  enum kind_type { whole, partial, unsatisfiable } kind = whole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

/// One range: `bytes=a-b`, `bytes=a-` or `bytes=-n`. Several ranges, another unit or a syntax
/// error give `whole`: the header is ignored (RFC 9110 allows it), the full file is sent.
byte_range parse_range(std::string_view header, std::uint64_t size);

/// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t t);

} // namespace http_server
