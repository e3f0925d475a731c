// Payloads for read/write ops: an owned buffer, or the iovecs of a borrowed buffer sequence.
#pragma once

#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/op_block.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <linux/io_uring.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <sys/uio.h>
#include <tuple>
#include <utility>

namespace asio_uring::detail {

/// res < 0 is an errno; 0 bytes on a non-empty stream read is EOF (PITFALLS 17, 18).
inline boost::system::error_code result_error(int res, bool eof_on_zero) noexcept {
  if (res < 0)
    return {-res, boost::system::system_category()};
  if (res == 0 && eof_on_zero)
    return boost::asio::error::eof;
  return {};
}

enum class rw_kind : std::uint8_t { read, write };

/// Where an op reads or writes: an fd and an offset (-1: the file position, for streams).
struct rw_target {
  int fd;
  std::uint64_t offset;
  bool stream;                // res == 0 on a read means EOF
  std::uint8_t sqe_flags = 0; // e.g. IOSQE_ASYNC (descriptor_object::set_force_async)
};

template <class Buffer, rw_kind Kind>
class owned_rw_payload {
public:
  static constexpr bool owned = true;
  owned_rw_payload(Buffer&& b, rw_target t) : buffer_(std::move(b)), target_(t) {}

  // The buffer is in the block now; only now is its address taken (small-string safe).
  int prepare(op_block& op) {
    sqe_args& a = op.sqe_;
    std::size_t n = buffer_traits<Buffer>::size(buffer_);
    if (target_.fd < 0)
      return -EBADF;
    if (n == 0)
      return 0;
    a.opcode = Kind == rw_kind::read ? IORING_OP_READ : IORING_OP_WRITE;
    if constexpr (requires { buffer_traits<Buffer>::fixed_index(buffer_); }) {
      // A buffer registered with the ring (buffer_pool): no page pinning per operation.
      a.opcode = Kind == rw_kind::read ? IORING_OP_READ_FIXED : IORING_OP_WRITE_FIXED;
      a.buf_index = static_cast<std::uint16_t>(buffer_traits<Buffer>::fixed_index(buffer_));
    }
    a.fd = target_.fd;
    a.sqe_flags |= target_.sqe_flags;
    a.addr = reinterpret_cast<std::uint64_t>(buffer_traits<Buffer>::data(buffer_));
    a.len = static_cast<std::uint32_t>(n > INT_MAX ? INT_MAX : n);
    a.off = target_.offset;
    return 1;
  }

  std::tuple<boost::system::error_code, std::size_t, Buffer> take(int res, unsigned) {
    bool eof = Kind == rw_kind::read && target_.stream && buffer_traits<Buffer>::size(buffer_) > 0;
    return {result_error(res, eof), res > 0 ? static_cast<std::size_t>(res) : 0,
            std::move(buffer_)};
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take_aborted() {
    return {boost::asio::error::operation_aborted, 0, Buffer{}};
  }

private:
  Buffer buffer_;
  rw_target target_;
};

/// Asio's borrowed API: the caller keeps the memory alive until the handler runs.
template <class Buffers, rw_kind Kind>
class borrowed_rw_payload {
public:
  static constexpr bool owned = false;
  static constexpr std::size_t max_iov = 16;

  borrowed_rw_payload(const Buffers& buffers, rw_target t) : target_(t) {
    auto it = boost::asio::buffer_sequence_begin(buffers);
    auto end = boost::asio::buffer_sequence_end(buffers);
    for (; it != end && count_ < max_iov; ++it) {
      if constexpr (Kind == rw_kind::read) {
        boost::asio::mutable_buffer b(*it);
        iov_[count_] = {b.data(), b.size()};
      } else {
        boost::asio::const_buffer b(*it);
        iov_[count_] = {const_cast<void*>(b.data()), b.size()};
      }
      total_ += iov_[count_].iov_len;
      if (iov_[count_].iov_len)
        ++count_;
    }
  }

  int prepare(op_block& op) {
    sqe_args& a = op.sqe_;
    if (target_.fd < 0)
      return -EBADF;
    if (total_ == 0)
      return 0;
    a.fd = target_.fd;
    a.sqe_flags |= target_.sqe_flags;
    a.off = target_.offset;
    if (count_ == 1) {
      a.opcode = Kind == rw_kind::read ? IORING_OP_READ : IORING_OP_WRITE;
      a.addr = reinterpret_cast<std::uint64_t>(iov_[0].iov_base);
      a.len = static_cast<std::uint32_t>(iov_[0].iov_len > INT_MAX ? INT_MAX : iov_[0].iov_len);
    } else {
      a.opcode = Kind == rw_kind::read ? IORING_OP_READV : IORING_OP_WRITEV;
      a.addr = reinterpret_cast<std::uint64_t>(&iov_[0]);
      a.len = static_cast<std::uint32_t>(count_);
    }
    return 1;
  }

  std::tuple<boost::system::error_code, std::size_t> take(int res, unsigned) {
    bool eof = Kind == rw_kind::read && target_.stream && total_ > 0;
    return {result_error(res, eof), res > 0 ? static_cast<std::size_t>(res) : 0};
  }
  std::tuple<boost::system::error_code, std::size_t> take_aborted() {
    return {boost::asio::error::operation_aborted, 0};
  }

private:
  ::iovec iov_[max_iov];
  std::size_t count_ = 0;
  std::size_t total_ = 0;
  rw_target target_;
};

} // namespace asio_uring::detail
