// Payloads of socket ops: send/recv (owned or borrowed), datagrams with their address,
// connect, accept, zero-copy send and ring receives. Everything the kernel reads or writes
// (msghdr, iovec, sockaddr) lives in the op block (PITFALLS 13).
#pragma once

#include <asio_uring/buffer_ring.hpp>
#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/op_block.hpp>
#include <asio_uring/detail/rw_payload.hpp>
#include <asio_uring/detail/socket_state.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <linux/io_uring.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>
#include <sys/socket.h>
#include <sys/uio.h>
#include <tuple>
#include <unistd.h>
#include <utility>

namespace asio_uring::detail {

/// Where a socket op goes: the fd, the stream whose per-direction order it keeps (null for
/// datagrams and listeners), MSG_* flags.
struct socket_target {
  int fd;
  socket_state* sock = nullptr; // the op takes its own reference
  bool stream = true;           // res == 0 on a receive into a non-empty buffer is EOF
  int msg_flags = 0;
  std::uint8_t sqe_flags = 0;
  std::int64_t deadline_ns = 0; // non-zero: a linked kernel timeout cancels the op then
};

/// Fills the common SQE fields and joins the stream's line for `Kind`'s direction.
template <rw_kind Kind>
int apply_target(op_block& op, const socket_target& t) {
  if (t.fd < 0)
    return -EBADF;
  op.sqe_.fd = t.fd;
  op.sqe_.sqe_flags |= t.sqe_flags;
  // Never SIGPIPE on a peer that went away: the error comes back as EPIPE (PITFALLS).
  op.sqe_.op_flags = static_cast<std::uint32_t>(t.msg_flags) |
                     (Kind == rw_kind::write ? static_cast<std::uint32_t>(MSG_NOSIGNAL) : 0u);
  if (t.sock) {
    t.sock->add_ref();
    op.sock_ = t.sock;
    if (Kind == rw_kind::write)
      op.state_ |= op_block::gate_send;
  }
  if (t.deadline_ns)
    op.link_deadline(t.deadline_ns);
  return 1;
}

inline std::size_t clamp_len(std::size_t n) noexcept {
  return n > INT_MAX ? INT_MAX : n;
}

/// send/recv of an owned buffer: `void(error_code, std::size_t, Buffer)`.
template <class Buffer, rw_kind Kind>
class owned_msg_payload {
public:
  static constexpr bool owned = true;
  owned_msg_payload(Buffer&& b, socket_target t) : buffer_(std::move(b)), target_(t) {}

  int prepare(op_block& op) {
    std::size_t n = buffer_traits<Buffer>::size(buffer_);
    if (target_.fd < 0)
      return -EBADF;
    if (n == 0) // completes at once, no SQE (PITFALLS 17)
      return 0;
    apply_target<Kind>(op, target_);
    op.sqe_.opcode = Kind == rw_kind::read ? IORING_OP_RECV : IORING_OP_SEND;
    op.sqe_.addr = reinterpret_cast<std::uint64_t>(buffer_traits<Buffer>::data(buffer_));
    op.sqe_.len = static_cast<std::uint32_t>(clamp_len(n));
    return 1;
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take(int res, unsigned) {
    bool eof = Kind == rw_kind::read && target_.stream && buffer_traits<Buffer>::size(buffer_);
    return {result_error(res, eof), res > 0 ? static_cast<std::size_t>(res) : 0,
            std::move(buffer_)};
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take_aborted() {
    return {boost::asio::error::operation_aborted, 0, Buffer{}};
  }

private:
  Buffer buffer_;
  socket_target target_;
};

/// How many iovecs a borrowed buffer sequence of this type can need: one for a single buffer
/// (what Beast's flat_buffer hands out), N for std::array, else 16 (Asio's max_buffers). A
/// pending receive's op block is sized by it.
template <class Buffers>
constexpr std::size_t iovec_capacity() noexcept {
  if constexpr (std::is_convertible_v<const Buffers&, boost::asio::const_buffer> ||
                std::is_convertible_v<const Buffers&, boost::asio::mutable_buffer>)
    return 1;
  else if constexpr (requires { std::tuple_size<Buffers>::value; })
    return std::tuple_size<Buffers>::value == 0   ? 1
           : std::tuple_size<Buffers>::value < 16 ? std::tuple_size<Buffers>::value
                                                  : 16;
  else
    return 16;
}

/// The iovecs of a borrowed buffer sequence (up to iovec_capacity).
template <class Buffers, rw_kind Kind>
struct iovec_list {
  static constexpr std::size_t max_iov = iovec_capacity<Buffers>();
  explicit iovec_list(const Buffers& buffers) {
    auto it = boost::asio::buffer_sequence_begin(buffers);
    auto end = boost::asio::buffer_sequence_end(buffers);
    for (; it != end && count < max_iov; ++it) {
      void* p;
      std::size_t n;
      if constexpr (Kind == rw_kind::read) {
        boost::asio::mutable_buffer b(*it);
        p = b.data();
        n = b.size();
      } else {
        boost::asio::const_buffer b(*it);
        p = const_cast<void*>(b.data());
        n = b.size();
      }
      if (n) {
        iov[count++] = {p, n};
        total += n;
      }
    }
  }
  ::iovec iov[max_iov];
  std::size_t count = 0;
  std::size_t total = 0;
};

/// send/recv of a borrowed buffer sequence: Asio's `void(error_code, std::size_t)`.
template <class Buffers, rw_kind Kind>
class borrowed_msg_payload {
public:
  static constexpr bool owned = false;
  borrowed_msg_payload(const Buffers& b, socket_target t) : iov_(b), target_(t) {}

  int prepare(op_block& op) {
    if (target_.fd < 0)
      return -EBADF;
    if (iov_.total == 0)
      return 0;
    apply_target<Kind>(op, target_);
    if (iov_.count == 1) {
      op.sqe_.opcode = Kind == rw_kind::read ? IORING_OP_RECV : IORING_OP_SEND;
      op.sqe_.addr = reinterpret_cast<std::uint64_t>(iov_.iov[0].iov_base);
      op.sqe_.len = static_cast<std::uint32_t>(clamp_len(iov_.iov[0].iov_len));
    } else if constexpr (multi) {
      msg_ = {};
      msg_.msg_iov = iov_.iov;
      msg_.msg_iovlen = iov_.count;
      op.sqe_.opcode = Kind == rw_kind::read ? IORING_OP_RECVMSG : IORING_OP_SENDMSG;
      op.sqe_.addr = reinterpret_cast<std::uint64_t>(&msg_);
      op.sqe_.len = 1;
    }
    return 1;
  }
  std::tuple<boost::system::error_code, std::size_t> take(int res, unsigned) {
    bool eof = Kind == rw_kind::read && target_.stream && iov_.total;
    return {result_error(res, eof), res > 0 ? static_cast<std::size_t>(res) : 0};
  }
  std::tuple<boost::system::error_code, std::size_t> take_aborted() {
    return {boost::asio::error::operation_aborted, 0};
  }

private:
  static constexpr bool multi = iovec_list<Buffers, Kind>::max_iov > 1;
  struct no_msghdr {};
  iovec_list<Buffers, Kind> iov_;
  [[no_unique_address]] std::conditional_t<multi, ::msghdr, no_msghdr> msg_{};
  socket_target target_;
};

/// A datagram with its peer address: sendmsg/recvmsg with the sockaddr in the block. On a
/// receive, the sender is copied to the caller's endpoint just before the handler runs.
template <class Endpoint, rw_kind Kind>
class datagram_base {
protected:
  datagram_base(const Endpoint& ep, Endpoint* out, socket_target t) : out_(out), target_(t) {
    if constexpr (Kind == rw_kind::write) {
      std::memcpy(&addr_, ep.data(), ep.size());
      addr_len_ = static_cast<socklen_t>(ep.size());
    } else {
      addr_len_ = sizeof addr_;
    }
  }
  int prepare_msg(op_block& op, ::iovec* iov, std::size_t count) {
    if (target_.fd < 0)
      return -EBADF;
    apply_target<Kind>(op, target_);
    msg_ = {};
    msg_.msg_name = &addr_;
    msg_.msg_namelen = addr_len_;
    msg_.msg_iov = iov;
    msg_.msg_iovlen = count;
    op.sqe_.opcode = Kind == rw_kind::read ? IORING_OP_RECVMSG : IORING_OP_SENDMSG;
    op.sqe_.addr = reinterpret_cast<std::uint64_t>(&msg_);
    op.sqe_.len = 1;
    return 1;
  }
  void store_sender(int res) {
    if constexpr (Kind == rw_kind::read)
      if (res >= 0 && out_) {
        out_->resize(msg_.msg_namelen);
        std::memcpy(out_->data(), &addr_, msg_.msg_namelen);
      }
  }
  ::sockaddr_storage addr_{};
  socklen_t addr_len_;
  ::msghdr msg_{};
  Endpoint* out_;
  socket_target target_;
};

template <class Buffer, class Endpoint, rw_kind Kind>
class owned_datagram_payload : datagram_base<Endpoint, Kind> {
  using base = datagram_base<Endpoint, Kind>;

public:
  static constexpr bool owned = true;
  owned_datagram_payload(Buffer&& b, const Endpoint& ep, Endpoint* out, socket_target t)
      : base(ep, out, t), buffer_(std::move(b)) {}
  int prepare(op_block& op) {
    iov_ = {buffer_traits<Buffer>::data(buffer_), buffer_traits<Buffer>::size(buffer_)};
    return this->prepare_msg(op, &iov_, 1);
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take(int res, unsigned) {
    this->store_sender(res);
    return {result_error(res, false), res > 0 ? static_cast<std::size_t>(res) : 0,
            std::move(buffer_)};
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take_aborted() {
    return {boost::asio::error::operation_aborted, 0, Buffer{}};
  }

private:
  Buffer buffer_;
  ::iovec iov_{};
};

template <class Buffers, class Endpoint, rw_kind Kind>
class borrowed_datagram_payload : datagram_base<Endpoint, Kind> {
  using base = datagram_base<Endpoint, Kind>;

public:
  static constexpr bool owned = false;
  borrowed_datagram_payload(const Buffers& b, const Endpoint& ep, Endpoint* out, socket_target t)
      : base(ep, out, t), iov_(b) {}
  int prepare(op_block& op) { return this->prepare_msg(op, iov_.iov, iov_.count); }
  std::tuple<boost::system::error_code, std::size_t> take(int res, unsigned) {
    this->store_sender(res);
    return {result_error(res, false), res > 0 ? static_cast<std::size_t>(res) : 0};
  }
  std::tuple<boost::system::error_code, std::size_t> take_aborted() {
    return {boost::asio::error::operation_aborted, 0};
  }

private:
  iovec_list<Buffers, Kind> iov_;
};

/// IORING_OP_CONNECT: `void(error_code)`.
class connect_payload {
public:
  static constexpr bool owned = false;
  /// `open_error`: opening the socket first failed (errno), reported without an SQE.
  template <class Endpoint>
  connect_payload(int fd, int open_error, const Endpoint& ep, std::int64_t deadline_ns = 0)
      : fd_(fd), open_error_(open_error), len_(static_cast<socklen_t>(ep.size())),
        deadline_ns_(deadline_ns) {
    std::memcpy(&addr_, ep.data(), ep.size());
  }
  int prepare(op_block& op) {
    if (open_error_)
      return -open_error_;
    if (fd_ < 0)
      return -EBADF;
    op.sqe_.opcode = IORING_OP_CONNECT;
    op.sqe_.fd = fd_;
    op.sqe_.addr = reinterpret_cast<std::uint64_t>(&addr_);
    op.sqe_.off = len_; // addrlen by value
    if (deadline_ns_)
      op.link_deadline(deadline_ns_);
    return 1;
  }
  std::tuple<boost::system::error_code> take(int res, unsigned) {
    return {result_error(res, false)};
  }
  std::tuple<boost::system::error_code> take_aborted() {
    return {boost::asio::error::operation_aborted};
  }

private:
  int fd_;
  int open_error_;
  socklen_t len_;
  std::int64_t deadline_ns_;
  ::sockaddr_storage addr_{};
};

/// Owned zero-copy send: the result CQE (F_MORE) then the notification CQE; the buffer comes
/// back only after the notification, when the kernel no longer reads it (PITFALLS 25).
template <class Buffer>
class owned_send_zc_payload {
public:
  static constexpr bool owned = true;
  owned_send_zc_payload(Buffer&& b, socket_target t, bool zc)
      : buffer_(std::move(b)), target_(t), zc_(zc) {}
  int prepare(op_block& op) {
    std::size_t n = buffer_traits<Buffer>::size(buffer_);
    if (target_.fd < 0)
      return -EBADF;
    if (n == 0)
      return 0;
    apply_target<rw_kind::write>(op, target_);
    op.sqe_.opcode = zc_ ? IORING_OP_SEND_ZC : IORING_OP_SEND; // SEND when the kernel lacks it
    op.sqe_.addr = reinterpret_cast<std::uint64_t>(buffer_traits<Buffer>::data(buffer_));
    op.sqe_.len = static_cast<std::uint32_t>(clamp_len(n));
    return 1;
  }
  void on_more(int res, unsigned) {
    result_ = res;
    have_result_ = true;
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take(int res, unsigned flags) {
    if (have_result_ || (flags & IORING_CQE_F_NOTIF))
      res = have_result_ ? result_ : 0;
    return {result_error(res, false), res > 0 ? static_cast<std::size_t>(res) : 0,
            std::move(buffer_)};
  }
  std::tuple<boost::system::error_code, std::size_t, Buffer> take_aborted() {
    return {boost::asio::error::operation_aborted, 0, Buffer{}};
  }

private:
  Buffer buffer_;
  socket_target target_;
  bool zc_;
  bool have_result_ = false;
  int result_ = 0;
};

/// A receive into a buffer the kernel picks from a buffer_ring, served by the socket's
/// multishot recv: `void(error_code, ring_buffer)`.
class ring_receive_payload {
public:
  static constexpr bool owned = false;
  ring_receive_payload(int fd, op_parking* source, std::shared_ptr<buffer_ring_state> ring)
      : fd_(fd), source_(source), ring_(std::move(ring)) {}
  int prepare(op_block& op) {
    if (fd_ < 0)
      return -EBADF;
    if (!source_)
      return -EINVAL; // the socket already receives from another buffer_ring
    op.sqe_.fd = fd_; // so that close() finds it while it is still queued
    op.parking_ = source_;
    return 1;
  }
  std::tuple<boost::system::error_code, ring_buffer> take(int res, unsigned flags) {
    taken_ = true;
    if (res <= 0) {
      if (flags & IORING_CQE_F_BUFFER)
        ring_->give_back(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
      return {result_error(res, true), ring_buffer()};
    }
    return {boost::system::error_code(),
            ring_buffer(ring_, static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT),
                        static_cast<std::size_t>(res))};
  }
  std::tuple<boost::system::error_code, ring_buffer> take_aborted() {
    return {boost::asio::error::operation_aborted, ring_buffer()};
  }
  void discard(int, unsigned flags) noexcept {
    if (!taken_ && (flags & IORING_CQE_F_BUFFER))
      ring_->give_back(static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT));
  }

private:
  int fd_;
  op_parking* source_;
  std::shared_ptr<buffer_ring_state> ring_;
  bool taken_ = false;
};

/// Accept, served by the acceptor's (multishot, or one-shot fallback) accept. `Make` turns
/// the new fd into the completion's arguments; an fd no handler takes is closed (PITFALLS 20).
template <class Make>
class accept_payload {
public:
  static constexpr bool owned = false;
  /// `refuse`: the peer socket is already open; completes with already_open, no SQE.
  accept_payload(int fd, op_parking* source, Make make, bool refuse = false)
      : fd_(fd), source_(source), make_(std::move(make)), refuse_(refuse) {}
  int prepare(op_block& op) {
    if (refuse_)
      return 0;
    if (fd_ < 0)
      return -EBADF;
    op.sqe_.fd = fd_; // so that close() finds it while it is still queued
    op.parking_ = source_;
    return 1;
  }
  auto take(int res, unsigned) {
    taken_ = true;
    if (refuse_)
      return make_(boost::asio::error::already_open, -1);
    return make_(res >= 0 ? boost::system::error_code() : result_error(res, false), res);
  }
  auto take_aborted() { return make_(boost::asio::error::operation_aborted, -1); }
  void discard(int res, unsigned) noexcept {
    if (!taken_ && res >= 0)
      ::close(res);
  }

private:
  int fd_;
  op_parking* source_;
  Make make_;
  bool refuse_;
  bool taken_ = false;
};

} // namespace asio_uring::detail
