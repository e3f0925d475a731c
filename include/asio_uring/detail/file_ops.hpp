// Synchronous file operations shared by random_access_file and stream_file, plus the fsync op.
#pragma once

#include <asio_uring/detail/op_block.hpp>
#include <asio_uring/file_base.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <linux/io_uring.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace asio_uring::detail {

inline boost::system::error_code last_error() {
  return {errno, boost::system::system_category()};
}

/// open(2) with O_CLOEXEC; a directory is refused with EISDIR (it cannot be read or written).
inline int open_file(const std::string& path, file_base::flags f, boost::system::error_code& ec) {
  int fd = ::open(path.c_str(), static_cast<int>(f) | O_CLOEXEC, 0644);
  if (fd < 0) {
    ec = last_error();
    return -1;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    ec = {EISDIR, boost::system::system_category()};
    return -1;
  }
  ec = {};
  return fd;
}

inline std::uint64_t file_size(int fd, boost::system::error_code& ec) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ec = last_error();
    return 0;
  }
  ec = {};
  return static_cast<std::uint64_t>(st.st_size);
}

inline void file_resize(int fd, std::uint64_t n, boost::system::error_code& ec) {
  ec = ::ftruncate(fd, static_cast<off_t>(n)) == 0 ? boost::system::error_code() : last_error();
}

inline void file_sync(int fd, bool data_only, boost::system::error_code& ec) {
  ec =
      (data_only ? ::fdatasync(fd) : ::fsync(fd)) == 0 ? boost::system::error_code() : last_error();
}

/// IORING_OP_FSYNC (with IORING_FSYNC_DATASYNC for sync_data).
class fsync_payload {
public:
  static constexpr bool owned = false;
  fsync_payload(int fd, bool data_only) : fd_(fd), data_only_(data_only) {}
  int prepare(op_block& op) {
    if (fd_ < 0)
      return -EBADF;
    op.sqe_.opcode = IORING_OP_FSYNC;
    op.sqe_.fd = fd_;
    op.sqe_.op_flags = data_only_ ? IORING_FSYNC_DATASYNC : 0;
    return 1;
  }
  std::tuple<boost::system::error_code> take(int res, unsigned) {
    if (res < 0)
      return {boost::system::error_code(-res, boost::system::system_category())};
    return {boost::system::error_code()};
  }
  std::tuple<boost::system::error_code> take_aborted() {
    return {boost::asio::error::operation_aborted};
  }

private:
  int fd_;
  bool data_only_;
};

} // namespace asio_uring::detail
