// asio_uring::basic_socket_acceptor: listening sockets over io_uring (multishot accept).
#pragma once

#include <asio_uring/basic_stream_socket.hpp>
#include <asio_uring/detail/socket_object.hpp>
#include <asio_uring/detail/socket_ops.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <tuple>
#include <unistd.h>

namespace asio_uring {

/// Accepts connections (Asio's basic_socket_acceptor). One multishot accept per acceptor feeds
/// the async_accepts in order (a one-shot accept per call where the kernel lacks multishot);
/// up to 64 connections nobody has asked for yet are kept, the rest wait in the kernel's
/// backlog. Accepted sockets are blocking and close-on-exec. EMFILE/ENFILE reach the handler;
/// the next async_accept tries again (no busy loop while nobody accepts).
template <class Protocol, class Executor = boost::asio::any_io_executor>
class basic_socket_acceptor : public detail::socket_object<Protocol, Executor> {
  using base = detail::socket_object<Protocol, Executor>;

public:
  using base::assign;
  using base::bind;
  using base::open;
  using base::set_option;
  using typename base::endpoint_type;
  using typename base::executor_type;
  using typename base::native_handle_type;
  using typename base::protocol_type;
  /// What `async_accept(token)` yields.
  using socket_type = basic_stream_socket<Protocol, Executor>;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_socket_acceptor<Protocol, OtherExecutor>;
  };

  explicit basic_socket_acceptor(const executor_type& ex) : base(ex) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_socket_acceptor(ExecutionContext& ctx)
      : base(detail::executor_of<executor_type>(ctx)) {}
  basic_socket_acceptor(const executor_type& ex, const protocol_type& protocol) : base(ex) {
    open(protocol);
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_socket_acceptor(ExecutionContext& ctx, const protocol_type& protocol)
      : basic_socket_acceptor(detail::executor_of<executor_type>(ctx), protocol) {}
  /// Opens, sets SO_REUSEADDR (unless `reuse_address` is false), binds and listens.
  basic_socket_acceptor(const executor_type& ex, const endpoint_type& endpoint,
                        bool reuse_address = true)
      : base(ex) {
    open(endpoint.protocol());
    if (reuse_address)
      set_option(socket_base::reuse_address(true));
    bind(endpoint);
    listen();
  }
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  basic_socket_acceptor(ExecutionContext& ctx, const endpoint_type& endpoint,
                        bool reuse_address = true)
      : basic_socket_acceptor(detail::executor_of<executor_type>(ctx), endpoint, reuse_address) {}
  basic_socket_acceptor(const executor_type& ex, const protocol_type& protocol,
                        native_handle_type fd)
      : base(ex) {
    assign(protocol, fd);
  }
  basic_socket_acceptor(basic_socket_acceptor&&) noexcept = default;
  basic_socket_acceptor& operator=(basic_socket_acceptor&&) noexcept = default;
  /// Cancels pending accepts (operation_aborted) and closes; connections accepted by the kernel
  /// but not handed out yet are closed.
  ~basic_socket_acceptor() = default;

  void listen(int backlog = socket_base::max_listen_connections) {
    boost::system::error_code ec;
    listen(backlog, ec);
    base::throw_if(ec, "listen");
  }
  void listen(int backlog, boost::system::error_code& ec) {
    ec = check(::listen(this->fd_, backlog));
  }

  // ---- asynchronous accept ----

  /// Into `peer` (which must not be open): `void(error_code)`.
  template <class PeerExecutor,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_accept(basic_socket<Protocol, PeerExecutor>& peer, CompletionToken&& token = {}) {
    return accept_into(peer, nullptr, std::forward<CompletionToken>(token));
  }
  /// Into `peer`, storing the remote endpoint in `peer_endpoint`: `void(error_code)`.
  template <class PeerExecutor,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_accept(basic_socket<Protocol, PeerExecutor>& peer, endpoint_type& peer_endpoint,
                    CompletionToken&& token = {}) {
    return accept_into(peer, &peer_endpoint, std::forward<CompletionToken>(token));
  }
  /// A new socket on this acceptor's executor: `void(error_code, socket_type)`.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires(
      !std::is_convertible_v<CompletionToken&, boost::asio::execution_context&> &&
      !boost::asio::execution::is_executor<
          std::decay_t<CompletionToken>>::value) auto async_accept(CompletionToken&& token = {}) {
    return accept_new(this->executor_, std::forward<CompletionToken>(token));
  }
  /// A new socket on another executor (of an asio_uring::io_context).
  template <class OtherExecutor,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::execution::is_executor<OtherExecutor>::value auto
  async_accept(const OtherExecutor& ex, CompletionToken&& token = {}) {
    return accept_new(ex, std::forward<CompletionToken>(token));
  }
  template <class ExecutionContext,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  auto async_accept(ExecutionContext& ctx, CompletionToken&& token = {}) {
    return accept_new(ctx.get_executor(), std::forward<CompletionToken>(token));
  }

  // ---- synchronous accept ----

  socket_type accept() {
    boost::system::error_code ec;
    socket_type s = accept(ec);
    base::throw_if(ec, "accept");
    return s;
  }
  socket_type accept(boost::system::error_code& ec) {
    socket_type s(this->executor_);
    int fd = sync_accept(ec);
    if (!ec)
      s.assign(*this->protocol_, fd, ec);
    return s;
  }
  template <class PeerExecutor>
  void accept(basic_socket<Protocol, PeerExecutor>& peer) {
    boost::system::error_code ec;
    accept(peer, ec);
    base::throw_if(ec, "accept");
  }
  template <class PeerExecutor>
  void accept(basic_socket<Protocol, PeerExecutor>& peer, boost::system::error_code& ec) {
    if (peer.is_open()) {
      ec = boost::asio::error::already_open;
      return;
    }
    int fd = sync_accept(ec);
    if (!ec)
      peer.assign(*this->protocol_, fd, ec);
  }

private:
  using base::check;

  int sync_accept(boost::system::error_code& ec) {
    if (this->non_blocking_) {
      ::pollfd p{this->fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) == 0) {
        ec = boost::asio::error::would_block;
        return -1;
      }
    }
    int fd = ::accept4(this->fd_, nullptr, nullptr, SOCK_CLOEXEC);
    ec = check(fd);
    return fd;
  }

  detail::op_parking* source() {
    return this->fd_ >= 0 ? detail::accept_source(*this->sched_, this->stream_state(), this->fd_)
                          : nullptr;
  }

  template <class Peer, class Token>
  auto accept_into(Peer& peer, endpoint_type* ep, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this, &peer, ep](auto&& handler) {
          std::optional<protocol_type> p = this->protocol_;
          auto make = [&peer, ep, p](boost::system::error_code ec,
                                     int fd) -> std::tuple<boost::system::error_code> {
            if (ec)
              return {ec};
            peer.assign(*p, fd, ec);
            if (ec) {
              ::close(fd);
              return {ec};
            }
            if (ep)
              *ep = peer.remote_endpoint(ec);
            return {ec};
          };
          using payload = detail::accept_payload<decltype(make)>;
          bool refuse = peer.is_open(); // Asio: already_open, and nothing starts
          this->template start_op<payload>(std::forward<decltype(handler)>(handler), this->fd_,
                                           refuse ? nullptr : source(), std::move(make), refuse);
        },
        token);
  }

  template <class OtherExecutor, class Token>
  auto accept_new(const OtherExecutor& ex, Token&& token) {
    using socket_t = basic_stream_socket<Protocol, OtherExecutor>;
    return boost::asio::async_initiate<Token, void(boost::system::error_code, socket_t)>(
        [this](auto&& handler, const OtherExecutor& e) {
          std::optional<protocol_type> p = this->protocol_;
          auto make = [e, p](boost::system::error_code ec,
                             int fd) -> std::tuple<boost::system::error_code, socket_t> {
            socket_t s(e);
            if (!ec)
              s.assign(*p, fd, ec);
            if (ec && fd >= 0 && !s.is_open())
              ::close(fd);
            return {ec, std::move(s)};
          };
          using payload = detail::accept_payload<decltype(make)>;
          this->template start_op<payload>(std::forward<decltype(handler)>(handler), this->fd_,
                                           source(), std::move(make));
        },
        token, ex);
  }
};

} // namespace asio_uring
