// asio_uring::basic_stream_socket: TCP and Unix stream sockets over io_uring, with owned and
// borrowed reads and writes, ring receives and zero-copy sends.
#pragma once

#include <asio_uring/basic_socket.hpp>
#include <asio_uring/buffer_ring.hpp>
#include <asio_uring/buffer_traits.hpp>

#include <boost/asio/buffer.hpp>

#include <sys/socket.h>
#include <sys/uio.h>

namespace asio_uring {

/// A connected stream socket (Asio's basic_stream_socket). Order per direction is kept: one
/// send and one receive are in the kernel at a time, later ones queue behind (PITFALLS 16).
/// A receive of 0 bytes into a non-empty buffer is `asio::error::eof`; sends never raise
/// SIGPIPE (MSG_NOSIGNAL).
template <class Protocol, class Executor = boost::asio::any_io_executor>
class basic_stream_socket : public basic_socket<Protocol, Executor> {
  using base = basic_socket<Protocol, Executor>;

public:
  using typename base::endpoint_type;
  using typename base::executor_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  using message_flags = typename base::message_flags;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_stream_socket<Protocol, OtherExecutor>;
  };

  using base::base;
  basic_stream_socket(basic_stream_socket&&) noexcept = default;
  basic_stream_socket& operator=(basic_stream_socket&&) noexcept = default;
  /// Cancels outstanding operations (their handlers get operation_aborted) and closes.
  ~basic_stream_socket() = default;

  // ---- owned: the buffer moves in and comes back with `void(error_code, std::size_t, B)` ----

  /// Owned receive. @par Per-Operation Cancellation terminal, partial, total.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_read_some(Buffer&& buffer, CompletionToken&& token = {}) {
    return async_receive(std::move(buffer), 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_receive(Buffer&& buffer, CompletionToken&& token = {}) {
    return async_receive(std::move(buffer), 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_receive(Buffer&& buffer, message_flags flags, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start<detail::owned_msg_payload<B, detail::rw_kind::read>,
                 void(boost::system::error_code, std::size_t, B)>(token, flags, std::move(buffer));
  }
  /// Owned send (MSG_NOSIGNAL).
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_write_some(Buffer&& buffer, CompletionToken&& token = {}) {
    return async_send(std::move(buffer), 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send(Buffer&& buffer, CompletionToken&& token = {}) {
    return async_send(std::move(buffer), 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send(Buffer&& buffer, message_flags flags, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start<detail::owned_msg_payload<B, detail::rw_kind::write>,
                 void(boost::system::error_code, std::size_t, B)>(token, flags, std::move(buffer));
  }

  /// Zero-copy send (IORING_OP_SEND_ZC): the kernel sends from the buffer's own pages and the
  /// handler runs once it has let go of them (the notification CQE). Pays for large sends
  /// (tens of KiB and up); a small one costs more than a copy. Falls back to a plain send on a
  /// kernel without SEND_ZC (before 6.0). `void(error_code, std::size_t, B)`.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send_zc(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, std::size_t, B)>(
        [this](auto&& handler, B&& b) {
          this->template start_op<detail::owned_send_zc_payload<B>>(
              std::forward<decltype(handler)>(handler), std::move(b), this->socket_target(true, 0),
              this->sched_->supports(IORING_OP_SEND_ZC));
        },
        token, std::move(buffer));
  }

  /// Receives into a buffer the kernel picks from `ring` when data arrives (a multishot recv
  /// per socket, re-armed as needed), so a waiting connection holds no buffer of its own.
  /// @par Completion Signature `void(error_code, ring_buffer)`; EOF is asio::error::eof.
  /// @par Per-Operation Cancellation terminal, partial, total. Data that arrives while no
  /// receive waits is kept for the next one. A socket receives from one ring only (another
  /// ring: invalid_argument).
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_receive(buffer_ring& ring, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken,
                                       void(boost::system::error_code, ring_buffer)>(
        [this](auto&& handler, std::shared_ptr<detail::buffer_ring_state> r) {
          detail::op_parking* src =
              this->fd_ >= 0
                  ? detail::receive_source(*this->sched_, this->stream_state(), this->fd_, r)
                  : nullptr;
          this->template start_op<detail::ring_receive_payload>(
              std::forward<decltype(handler)>(handler), this->fd_, src, std::move(r));
        },
        token, ring.state());
  }

  // ---- borrowed: exactly Asio's; the caller keeps the memory alive until the handler runs ----

  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return async_receive(buffers, 0, std::forward<CompletionToken>(token));
  }
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_receive(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return async_receive(buffers, 0, std::forward<CompletionToken>(token));
  }
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_receive(const MutableBufferSequence& buffers, message_flags flags,
                CompletionToken&& token = {}) {
    return start<detail::borrowed_msg_payload<MutableBufferSequence, detail::rw_kind::read>,
                 void(boost::system::error_code, std::size_t)>(token, flags, buffers);
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return async_send(buffers, 0, std::forward<CompletionToken>(token));
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_send(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return async_send(buffers, 0, std::forward<CompletionToken>(token));
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_send(const ConstBufferSequence& buffers, message_flags flags,
             CompletionToken&& token = {}) {
    return start<detail::borrowed_msg_payload<ConstBufferSequence, detail::rw_kind::write>,
                 void(boost::system::error_code, std::size_t)>(token, flags, buffers);
  }

  // ---- synchronous (blocking system calls) ----

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    return receive(buffers, 0);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return receive(buffers, 0, ec);
  }
  template <class MutableBufferSequence>
  std::size_t receive(const MutableBufferSequence& buffers, message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = receive(buffers, flags, ec);
    base::throw_if(ec, "receive");
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t receive(const MutableBufferSequence& buffers, message_flags flags,
                      boost::system::error_code& ec) {
    return sync_msg<detail::rw_kind::read>(buffers, flags, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    return send(buffers, 0);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    return send(buffers, 0, ec);
  }
  template <class ConstBufferSequence>
  std::size_t send(const ConstBufferSequence& buffers, message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = send(buffers, flags, ec);
    base::throw_if(ec, "send");
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t send(const ConstBufferSequence& buffers, message_flags flags,
                   boost::system::error_code& ec) {
    return sync_msg<detail::rw_kind::write>(buffers, flags, ec);
  }

private:
  template <class Payload, class Signature, class Token, class... Args>
  auto start(Token& token, message_flags flags, Args&&... args) {
    return boost::asio::async_initiate<Token, Signature>(
        [this, flags](auto&& handler, auto&&... a) {
          this->template start_op<Payload>(std::forward<decltype(handler)>(handler),
                                           std::forward<decltype(a)>(a)...,
                                           this->socket_target(true, flags));
        },
        token, std::forward<Args>(args)...);
  }

  template <detail::rw_kind Kind, class Buffers>
  std::size_t sync_msg(const Buffers& buffers, message_flags flags, boost::system::error_code& ec) {
    detail::iovec_list<Buffers, Kind> iov(buffers);
    if (iov.total == 0) {
      ec = {};
      return 0;
    }
    ::msghdr msg{};
    msg.msg_iov = iov.iov;
    msg.msg_iovlen = iov.count;
    ssize_t n = Kind == detail::rw_kind::read
                    ? ::recvmsg(this->fd_, &msg, this->sync_flags(flags))
                    : ::sendmsg(this->fd_, &msg, this->sync_flags(flags) | MSG_NOSIGNAL);
    if (n < 0) {
      ec = errno == EAGAIN ? boost::asio::error::would_block : base::last_error();
      return 0;
    }
    ec = (n == 0 && Kind == detail::rw_kind::read) ? boost::asio::error::eof
                                                   : boost::system::error_code();
    return static_cast<std::size_t>(n);
  }
};

} // namespace asio_uring
