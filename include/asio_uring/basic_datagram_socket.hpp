// asio_uring::basic_datagram_socket: UDP and Unix datagram sockets over io_uring.
#pragma once

#include <asio_uring/basic_socket.hpp>
#include <asio_uring/buffer_traits.hpp>

#include <boost/asio/buffer.hpp>

#include <sys/socket.h>

namespace asio_uring {

/// A datagram socket (Asio's basic_datagram_socket). A zero-byte datagram is a result like any
/// other, not EOF. The address of a received datagram is written to the caller's endpoint just
/// before the handler runs (the kernel writes it into the op block).
template <class Protocol, class Executor = boost::asio::any_io_executor>
class basic_datagram_socket : public basic_socket<Protocol, Executor> {
  using base = basic_socket<Protocol, Executor>;
  static constexpr auto read = detail::rw_kind::read;
  static constexpr auto write = detail::rw_kind::write;

public:
  using typename base::endpoint_type;
  using typename base::executor_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  using message_flags = typename base::message_flags;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_datagram_socket<Protocol, OtherExecutor>;
  };

  using base::base;
  basic_datagram_socket(basic_datagram_socket&&) noexcept = default;
  basic_datagram_socket& operator=(basic_datagram_socket&&) noexcept = default;
  ~basic_datagram_socket() = default;

  // ---- owned: `void(error_code, std::size_t, B)` ----

  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send_to(Buffer&& buffer, const endpoint_type& to, CompletionToken&& token = {}) {
    return async_send_to(std::move(buffer), to, 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send_to(Buffer&& buffer, const endpoint_type& to, message_flags flags,
                     CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start<detail::owned_datagram_payload<B, endpoint_type, write>,
                 void(boost::system::error_code, std::size_t, B)>(token, flags, nullptr, to,
                                                                  std::move(buffer));
  }
  /// `sender` must stay valid until the handler runs (as in Asio).
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_receive_from(Buffer&& buffer, endpoint_type& sender, CompletionToken&& token = {}) {
    return async_receive_from(std::move(buffer), sender, 0, std::forward<CompletionToken>(token));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_receive_from(Buffer&& buffer, endpoint_type& sender, message_flags flags,
                          CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start<detail::owned_datagram_payload<B, endpoint_type, read>,
                 void(boost::system::error_code, std::size_t, B)>(
        token, flags, &sender, endpoint_type(), std::move(buffer));
  }
  /// On a connected socket.
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_send(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start_plain<detail::owned_msg_payload<B, write>,
                       void(boost::system::error_code, std::size_t, B)>(token, 0,
                                                                        std::move(buffer));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_receive(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return start_plain<detail::owned_msg_payload<B, read>,
                       void(boost::system::error_code, std::size_t, B)>(token, 0,
                                                                        std::move(buffer));
  }

  // ---- borrowed: Asio's signatures, `void(error_code, std::size_t)` ----

  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_send_to(const ConstBufferSequence& buffers, const endpoint_type& to,
                CompletionToken&& token = {}) {
    return async_send_to(buffers, to, 0, std::forward<CompletionToken>(token));
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_send_to(const ConstBufferSequence& buffers, const endpoint_type& to, message_flags flags,
                CompletionToken&& token = {}) {
    return start<detail::borrowed_datagram_payload<ConstBufferSequence, endpoint_type, write>,
                 void(boost::system::error_code, std::size_t)>(token, flags, nullptr, to, buffers);
  }
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_receive_from(const MutableBufferSequence& buffers, endpoint_type& sender,
                     CompletionToken&& token = {}) {
    return async_receive_from(buffers, sender, 0, std::forward<CompletionToken>(token));
  }
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_receive_from(const MutableBufferSequence& buffers, endpoint_type& sender,
                     message_flags flags, CompletionToken&& token = {}) {
    return start<detail::borrowed_datagram_payload<MutableBufferSequence, endpoint_type, read>,
                 void(boost::system::error_code, std::size_t)>(token, flags, &sender,
                                                               endpoint_type(), buffers);
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_send(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return start_plain<detail::borrowed_msg_payload<ConstBufferSequence, write>,
                       void(boost::system::error_code, std::size_t)>(token, 0, buffers);
  }
  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_receive(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return start_plain<detail::borrowed_msg_payload<MutableBufferSequence, read>,
                       void(boost::system::error_code, std::size_t)>(token, 0, buffers);
  }

  // ---- synchronous ----

  template <class ConstBufferSequence>
  std::size_t send_to(const ConstBufferSequence& buffers, const endpoint_type& to,
                      message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = send_to(buffers, to, flags, ec);
    base::throw_if(ec, "send_to");
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t send_to(const ConstBufferSequence& buffers, const endpoint_type& to,
                      message_flags flags, boost::system::error_code& ec) {
    endpoint_type copy = to;
    return sync_msg<write>(buffers, &copy, flags, ec);
  }
  template <class MutableBufferSequence>
  std::size_t receive_from(const MutableBufferSequence& buffers, endpoint_type& sender,
                           message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = receive_from(buffers, sender, flags, ec);
    base::throw_if(ec, "receive_from");
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t receive_from(const MutableBufferSequence& buffers, endpoint_type& sender,
                           message_flags flags, boost::system::error_code& ec) {
    return sync_msg<read>(buffers, &sender, flags, ec);
  }
  template <class ConstBufferSequence>
  std::size_t send(const ConstBufferSequence& buffers, message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = sync_msg<write>(buffers, nullptr, flags, ec);
    base::throw_if(ec, "send");
    return n;
  }
  template <class MutableBufferSequence>
  std::size_t receive(const MutableBufferSequence& buffers, message_flags flags = 0) {
    boost::system::error_code ec;
    std::size_t n = sync_msg<read>(buffers, nullptr, flags, ec);
    base::throw_if(ec, "receive");
    return n;
  }

private:
  template <class Payload, class Signature, class Token, class... Args>
  auto start(Token& token, message_flags flags, endpoint_type* sender, const endpoint_type& to,
             Args&&... args) {
    return boost::asio::async_initiate<Token, Signature>(
        [this, flags, sender](auto&& handler, const endpoint_type& ep, auto&&... a) {
          this->template start_op<Payload>(std::forward<decltype(handler)>(handler),
                                           std::forward<decltype(a)>(a)..., ep, sender,
                                           this->socket_target(false, flags));
        },
        token, to, std::forward<Args>(args)...);
  }
  template <class Payload, class Signature, class Token, class... Args>
  auto start_plain(Token& token, message_flags flags, Args&&... args) {
    return boost::asio::async_initiate<Token, Signature>(
        [this, flags](auto&& handler, auto&&... a) {
          this->template start_op<Payload>(std::forward<decltype(handler)>(handler),
                                           std::forward<decltype(a)>(a)...,
                                           this->socket_target(false, flags));
        },
        token, std::forward<Args>(args)...);
  }

  template <detail::rw_kind Kind, class Buffers>
  std::size_t sync_msg(const Buffers& buffers, endpoint_type* peer, message_flags flags,
                       boost::system::error_code& ec) {
    detail::iovec_list<Buffers, Kind> iov(buffers);
    ::msghdr msg{};
    msg.msg_iov = iov.iov;
    msg.msg_iovlen = iov.count;
    if (peer) {
      msg.msg_name = peer->data();
      msg.msg_namelen = static_cast<socklen_t>(Kind == read ? peer->capacity() : peer->size());
    }
    ssize_t n = Kind == read ? ::recvmsg(this->fd_, &msg, this->sync_flags(flags))
                             : ::sendmsg(this->fd_, &msg, this->sync_flags(flags) | MSG_NOSIGNAL);
    if (n < 0) {
      ec = errno == EAGAIN ? boost::asio::error::would_block : base::last_error();
      return 0;
    }
    if (Kind == read && peer)
      peer->resize(msg.msg_namelen);
    ec = {};
    return static_cast<std::size_t>(n);
  }
};

} // namespace asio_uring
