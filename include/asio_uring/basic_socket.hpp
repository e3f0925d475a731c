// asio_uring::basic_socket: what stream sockets, datagram sockets share (Asio's basic_socket):
// open, bind, connect, options, endpoints, shutdown, close, cancel.
#pragma once

#include <asio_uring/detail/socket_object.hpp>
#include <asio_uring/detail/socket_ops.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/system/system_error.hpp>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <type_traits>
#include <unistd.h>
#include <utility>

namespace asio_uring {

template <class Executor>
class basic_tcp_stream; // <asio_uring/beast.hpp>

/// A socket whose operations go through the context's ring. Sockets are never O_NONBLOCK
/// (io_uring waits for readiness itself, PITFALLS 15); `non_blocking(true)` is Asio's
/// user-level mode and affects only the synchronous calls (MSG_DONTWAIT).
template <class Protocol, class Executor = boost::asio::any_io_executor>
class basic_socket : public detail::socket_object<Protocol, Executor> {
  using base = detail::socket_object<Protocol, Executor>;

public:
  using typename base::endpoint_type;
  using typename base::executor_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  using shutdown_type = typename base::shutdown_type;
  using base::assign;
  using base::bind;
  using base::open;
  using lowest_layer_type = basic_socket;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_socket<Protocol, OtherExecutor>;
  };

  /// Not open yet. Throws std::invalid_argument for an executor of another context.
  explicit basic_socket(const executor_type& ex) : base(ex) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_socket(ExecutionContext& ctx) : base(detail::executor_of<executor_type>(ctx)) {}
  /// Opened for `protocol`.
  basic_socket(const executor_type& ex, const protocol_type& protocol) : base(ex) {
    open(protocol);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_socket(ExecutionContext& ctx, const protocol_type& protocol)
      : basic_socket(detail::executor_of<executor_type>(ctx), protocol) {}
  /// Opened and bound to `endpoint`.
  basic_socket(const executor_type& ex, const endpoint_type& endpoint) : base(ex) {
    open(endpoint.protocol());
    bind(endpoint);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_socket(ExecutionContext& ctx, const endpoint_type& endpoint)
      : basic_socket(detail::executor_of<executor_type>(ctx), endpoint) {}
  /// Takes over an open socket.
  basic_socket(const executor_type& ex, const protocol_type& protocol, native_handle_type fd)
      : base(ex) {
    assign(protocol, fd);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_socket(ExecutionContext& ctx, const protocol_type& protocol, native_handle_type fd)
      : basic_socket(detail::executor_of<executor_type>(ctx), protocol, fd) {}
  basic_socket(basic_socket&&) noexcept = default;
  basic_socket& operator=(basic_socket&&) noexcept = default;

  lowest_layer_type& lowest_layer() noexcept { return *this; }
  const lowest_layer_type& lowest_layer() const noexcept { return *this; }

  /// Blocking connect; opens the socket first if needed (as Asio does).
  void connect(const endpoint_type& peer) {
    boost::system::error_code ec;
    connect(peer, ec);
    base::throw_if(ec, "connect");
  }
  void connect(const endpoint_type& peer, boost::system::error_code& ec) {
    if (!this->is_open()) {
      open(peer.protocol(), ec);
      if (ec)
        return;
    }
    ec = check(::connect(this->fd_, peer.data(), static_cast<socklen_t>(peer.size())));
  }

  /// IORING_OP_CONNECT; opens the socket first if needed. @par Completion Signature
  /// `void(error_code)`. @par Per-Operation Cancellation terminal, partial, total (the socket
  /// is left as the kernel leaves it; close it before another attempt).
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_connect(const endpoint_type& peer, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        [this](auto&& handler, const endpoint_type& ep) {
          boost::system::error_code ec;
          if (!this->is_open())
            open(ep.protocol(), ec);
          this->template start_op<detail::connect_payload>(
              std::forward<decltype(handler)>(handler), this->fd_, ec.value(), ep, op_deadline_ns_);
        },
        token, peer);
  }

  /// Bytes that can be read without blocking.
  std::size_t available() const {
    boost::system::error_code ec;
    std::size_t n = available(ec);
    base::throw_if(ec, "available");
    return n;
  }
  std::size_t available(boost::system::error_code& ec) const {
    int n = 0;
    ec = check(::ioctl(this->fd_, FIONREAD, &n));
    return ec ? 0 : static_cast<std::size_t>(n);
  }

  endpoint_type remote_endpoint() const {
    boost::system::error_code ec;
    endpoint_type ep = remote_endpoint(ec);
    base::throw_if(ec, "remote_endpoint");
    return ep;
  }
  endpoint_type remote_endpoint(boost::system::error_code& ec) const {
    return endpoint_of(&::getpeername, ec);
  }

  void shutdown(shutdown_type what) {
    boost::system::error_code ec;
    shutdown(what, ec);
    base::throw_if(ec, "shutdown");
  }
  void shutdown(shutdown_type what, boost::system::error_code& ec) {
    ec = check(::shutdown(this->fd_, static_cast<int>(what)));
  }

  /// The fd's own O_NONBLOCK: always false. Setting it is refused (operation_not_supported):
  /// io_uring would then fail receives and sends with EAGAIN instead of waiting.
  bool native_non_blocking() const noexcept { return false; }
  void native_non_blocking(bool mode) {
    boost::system::error_code ec;
    native_non_blocking(mode, ec);
    base::throw_if(ec, "native_non_blocking");
  }
  void native_non_blocking(bool mode, boost::system::error_code& ec) {
    ec = mode ? boost::asio::error::operation_not_supported : boost::system::error_code();
  }

  void close() noexcept { base::close(); }
  void close(boost::system::error_code& ec) noexcept { base::close(ec); }

protected:
  template <class>
  friend class basic_tcp_stream;
  ~basic_socket() = default;
  using base::check;
  using base::endpoint_of;

  /// Where an op goes; streams keep one op per direction in the kernel.
  detail::socket_target socket_target(bool stream, int msg_flags) {
    detail::socket_state* st = stream && this->fd_ >= 0 ? &this->stream_state() : nullptr;
    return {this->fd_, st, stream, msg_flags, this->sqe_flags_, op_deadline_ns_};
  }

  // Non-zero: operations started from now on carry a kernel timeout (IORING_OP_LINK_TIMEOUT)
  // at this steady_clock time. Set by basic_tcp_stream.
  std::int64_t op_deadline_ns_ = 0;
};

} // namespace asio_uring
