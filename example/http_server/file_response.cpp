// http_server: request-target to open file, Range header, HTTP dates (see file_response.hpp).
#include "file_response.hpp"
#include "mime_types.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <limits>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace http_server {

void unique_fd::reset() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

// Percent-decodes an origin-form path and refuses what could change its meaning once decoded.
bool decode_path(std::string_view in, std::string& out) {
  if (in.empty() || in.front() != '/')
    return false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3)
        return false;
      const int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '/') // would split a segment in two after the checks below
        return false;
      i += 2;
    }
    if (c == '\0' || c == '\\')
      return false;
    out.push_back(c);
  }
  std::string_view rest = out;
  while (!rest.empty()) {
    rest.remove_prefix(1); // the '/'
    const std::string_view segment = rest.substr(0, rest.find('/'));
    if (segment == "." || segment == "..")
      return false;
    rest.remove_prefix(segment.size());
  }
  return true;
}

// realpath(3), or "" when the path does not resolve.
std::string resolve(const std::string& path) {
  std::unique_ptr<char, decltype(&std::free)> p(::realpath(path.c_str(), nullptr), &std::free);
  return p ? std::string(p.get()) : std::string();
}

bool inside(const std::string& path, const std::string& root) {
  if (root == "/")
    return !path.empty() && path.front() == '/';
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

} // namespace

file_target open_target(std::string_view target, const std::string& root) {
  file_target result;
  std::string path;
  if (!decode_path(target.substr(0, target.find_first_of("?#")), path)) {
    result.status = 400;
    return result;
  }
  std::string resolved = resolve(root == "/" ? path : root + path);
  struct stat st {};
  if (resolved.empty() || !inside(resolved, root) || ::stat(resolved.c_str(), &st) != 0)
    return result;
  if (S_ISDIR(st.st_mode)) {
    resolved = resolve(resolved + "/index.html");
    if (resolved.empty() || !inside(resolved, root))
      return result;
  }
  // The resolved path has no symlinks left; O_NOFOLLOW refuses one swapped in since, and
  // O_NONBLOCK keeps a FIFO from blocking the open (the library clears it when it adopts the fd).
  unique_fd fd(::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return result;
  result.status = 200;
  result.fd = std::move(fd);
  result.size = static_cast<std::uint64_t>(st.st_size);
  result.modified = st.st_mtime;
  result.content_type = mime_type(resolved);
  return result;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Digits only; values past 2^64 saturate (they are past any file's end anyway).
bool parse_number(std::string_view s, std::uint64_t& v) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc())
    v = std::numeric_limits<std::uint64_t>::max();
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

} // namespace

byte_range parse_range(std::string_view header, std::uint64_t size) {
  header = trim(header);
  const auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes"))
    return {};
  const std::string_view spec = trim(header.substr(eq + 1));
  const auto dash = spec.find('-');
  if (spec.find(',') != std::string_view::npos || dash == std::string_view::npos)
    return {};
  const std::string_view first_text = trim(spec.substr(0, dash));
  const std::string_view last_text = trim(spec.substr(dash + 1));
  std::uint64_t first = 0, last = std::numeric_limits<std::uint64_t>::max();
  if (first_text.empty()) { // suffix: the last n bytes
    std::uint64_t n = 0;
    if (!parse_number(last_text, n))
      return {};
    if (n == 0 || size == 0)
      return {byte_range::unsatisfiable};
    n = std::min(n, size);
    return {byte_range::partial, size - n, n};
  }
  if (!parse_number(first_text, first) ||
      (!last_text.empty() && (!parse_number(last_text, last) || last < first)))
    return {};
  if (first >= size)
    return {byte_range::unsatisfiable};
  last = std::min(last, size - 1);
  return {byte_range::partial, first, last - first + 1};
}

std::string http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

} // namespace http_server
