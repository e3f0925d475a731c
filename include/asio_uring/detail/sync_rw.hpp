// Synchronous reads and writes (Asio's read_some / write_some family) with Asio's error rules.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <cerrno>
#include <cstddef>
#include <sys/types.h>
#include <sys/uio.h>

namespace asio_uring::detail {

/// readv/writev (or preadv/pwritev when offset >= 0) of up to 16 buffers. A 0-byte read of a
/// non-empty sequence is EOF.
template <bool Read, class Buffers>
std::size_t sync_rw(int fd, long long offset, const Buffers& buffers, bool eof_on_zero,
                    boost::system::error_code& ec) {
  ::iovec iov[16];
  int n = 0;
  std::size_t total = 0;
  for (auto it = boost::asio::buffer_sequence_begin(buffers);
       it != boost::asio::buffer_sequence_end(buffers) && n < 16; ++it, ++n) {
    iov[n] = {const_cast<void*>(static_cast<const void*>(it->data())), it->size()};
    total += it->size();
  }
  if (fd < 0) {
    ec = boost::asio::error::bad_descriptor;
    return 0;
  }
  if (total == 0) {
    ec = {};
    return 0;
  }
  ssize_t r;
  if (offset >= 0)
    r = Read ? ::preadv(fd, iov, n, offset) : ::pwritev(fd, iov, n, offset);
  else
    r = Read ? ::readv(fd, iov, n) : ::writev(fd, iov, n);
  if (r < 0) {
    ec = {errno, boost::system::system_category()};
    return 0;
  }
  ec = (Read && r == 0 && eof_on_zero) ? boost::system::error_code(boost::asio::error::eof)
                                       : boost::system::error_code();
  return static_cast<std::size_t>(r);
}

} // namespace asio_uring::detail
