// asio_uring::tcp_stream: what beast::tcp_stream is to Asio, over an asio_uring TCP socket,
// with its timeouts enforced by the kernel (IORING_OP_LINK_TIMEOUT) instead of a timer.
#pragma once

#include <asio_uring/basic_stream_socket.hpp>
#include <asio_uring/beast/teardown.hpp>
#include <asio_uring/buffer_traits.hpp>
#include <asio_uring/detail/io_object.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace asio_uring {

namespace detail {

inline std::int64_t steady_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <class Executor>
struct tcp_stream_state {
  basic_stream_socket<boost::asio::ip::tcp, Executor> socket;
  std::int64_t expiry_ns = 0; // steady_clock; 0: never
};

/// Wraps the handler of one operation of a tcp_stream: an op the linked kernel timeout
/// cancelled (operation_aborted at or past its deadline) reports beast::error::timeout, and the
/// socket is closed, as beast::tcp_stream does. Associated executor, allocator and
/// cancellation slot are the handler's (see the associator below).
template <class Executor, class Handler>
class timeout_handler {
public:
  template <class H>
  timeout_handler(H&& h, std::shared_ptr<tcp_stream_state<Executor>> state, std::int64_t deadline)
      : handler_(std::forward<H>(h)), state_(std::move(state)), deadline_ns_(deadline) {}

  template <class... Args>
  void operator()(boost::system::error_code ec, Args&&... args) {
    if (deadline_ns_ && ec == boost::asio::error::operation_aborted &&
        steady_now_ns() >= deadline_ns_) {
      ec = boost::beast::error::timeout;
      boost::system::error_code ignored;
      state_->socket.close(ignored);
    }
    state_.reset();
    std::move(handler_)(ec, std::forward<Args>(args)...);
  }

  Handler handler_;

private:
  std::shared_ptr<tcp_stream_state<Executor>> state_;
  std::int64_t deadline_ns_;
};

} // namespace detail

/// A TCP stream for Beast with timeouts (beast::tcp_stream's interface, minus rate limits).
/// `expires_after` / `expires_at` set a deadline for the operations started after it: each is
/// linked to a kernel timeout at that time; one still pending then fails with
/// `beast::error::timeout` and the socket is closed. An operation started past the deadline
/// fails at once. Unlike beast::tcp_stream, changing the expiry does not move the deadline of
/// operations already started. Borrowed buffers (what Beast uses) and owned ones are accepted.
/// Not thread-safe, as Beast's: one read and one write at a time.
template <class Executor = boost::asio::any_io_executor>
class basic_tcp_stream {
  using state_type = detail::tcp_stream_state<Executor>;

public:
  using socket_type = basic_stream_socket<boost::asio::ip::tcp, Executor>;
  using lowest_layer_type = socket_type;
  using executor_type = Executor;
  using protocol_type = boost::asio::ip::tcp;
  using endpoint_type = protocol_type::endpoint;
  template <class OtherExecutor>
  struct rebind_executor {
    using other = basic_tcp_stream<OtherExecutor>;
  };

  /// A stream whose socket is not open yet.
  explicit basic_tcp_stream(const executor_type& ex)
      : state_(std::make_shared<state_type>(state_type{socket_type(ex)})) {}
  template <class ExecutionContext>
  requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit basic_tcp_stream(ExecutionContext& ctx)
      : basic_tcp_stream(detail::executor_of<executor_type>(ctx)) {}
  /// Takes over a (typically accepted) socket.
  explicit basic_tcp_stream(socket_type&& socket)
      : state_(std::make_shared<state_type>(state_type{std::move(socket)})) {}
  basic_tcp_stream(basic_tcp_stream&&) noexcept = default;
  basic_tcp_stream& operator=(basic_tcp_stream&&) noexcept = default;
  /// Closes the socket: pending operations complete with operation_aborted.
  ~basic_tcp_stream() {
    if (state_)
      close();
  }

  executor_type get_executor() const noexcept { return state_->socket.get_executor(); }
  socket_type& socket() noexcept { return state_->socket; }
  const socket_type& socket() const noexcept { return state_->socket; }
  lowest_layer_type& lowest_layer() noexcept { return state_->socket; }
  const lowest_layer_type& lowest_layer() const noexcept { return state_->socket; }
  /// Moves the socket out; the stream is left without an open socket and without expiry.
  socket_type release_socket() {
    state_->expiry_ns = 0;
    socket_type s = std::move(state_->socket);
    state_ = std::make_shared<state_type>(state_type{socket_type(s.get_executor())});
    return s;
  }

  /// Operations started from now on fail with beast::error::timeout after `d`.
  void expires_after(std::chrono::steady_clock::duration d) {
    expires_at(std::chrono::steady_clock::now() + d);
  }
  /// ... at `t`.
  void expires_at(std::chrono::steady_clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    state_->expiry_ns = ns > 0 ? ns : 1;
  }
  /// Operations started from now on have no deadline.
  void expires_never() noexcept { state_->expiry_ns = 0; }

  /// Pending operations complete with operation_aborted.
  void cancel() { state_->socket.cancel(); }
  void close() {
    boost::system::error_code ec;
    state_->socket.close(ec);
  }

  // ---- connect ----

  /// Connects the socket (opened first if needed). `void(error_code)`.
  template <class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  auto async_connect(const endpoint_type& peer, CompletionToken&& token = {}) {
    return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
        [this](auto&& handler, const endpoint_type& ep) {
          with_deadline(std::forward<decltype(handler)>(handler), [&](auto&& h) {
            state_->socket.async_connect(ep, std::forward<decltype(h)>(h));
          });
        },
        token, peer);
  }
  /// Tries each endpoint in turn (a resolver's results); `void(error_code, endpoint_type)`.
  /// The expiry covers all the attempts.
  template <class EndpointSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires(!std::is_convertible_v<
           const EndpointSequence&,
           const endpoint_type&>) auto async_connect(const EndpointSequence& endpoints,
                                                     CompletionToken&& token = {}) {
    return boost::asio::async_compose<CompletionToken,
                                      void(boost::system::error_code, endpoint_type)>(
        range_connect_op<EndpointSequence>{*this, endpoints}, token, state_->socket);
  }
  void connect(const endpoint_type& peer) { state_->socket.connect(peer); }
  void connect(const endpoint_type& peer, boost::system::error_code& ec) {
    state_->socket.connect(peer, ec);
  }

  // ---- borrowed buffers: Asio's and Beast's stream interface ----

  template <class MutableBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_mutable_buffer_sequence<MutableBufferSequence>::value auto
  async_read_some(const MutableBufferSequence& buffers, CompletionToken&& token = {}) {
    return transfer<void(boost::system::error_code, std::size_t)>(
        token,
        [](socket_type& s, const MutableBufferSequence& b, auto&& h) {
          s.async_read_some(b, std::forward<decltype(h)>(h));
        },
        buffers);
  }
  template <class ConstBufferSequence,
            class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires boost::asio::is_const_buffer_sequence<ConstBufferSequence>::value auto
  async_write_some(const ConstBufferSequence& buffers, CompletionToken&& token = {}) {
    return transfer<void(boost::system::error_code, std::size_t)>(
        token,
        [](socket_type& s, const ConstBufferSequence& b, auto&& h) {
          s.async_write_some(b, std::forward<decltype(h)>(h));
        },
        buffers);
  }

  // ---- owned buffers: `void(error_code, std::size_t, B)` ----

  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_read_some(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return transfer<void(boost::system::error_code, std::size_t, B)>(
        token,
        [](socket_type& s, B&& b, auto&& h) {
          s.async_read_some(std::move(b), std::forward<decltype(h)>(h));
        },
        std::move(buffer));
  }
  template <class Buffer, class CompletionToken = boost::asio::default_completion_token_t<Executor>>
  requires owned_buffer_rvalue<Buffer&&>
  auto async_write_some(Buffer&& buffer, CompletionToken&& token = {}) {
    using B = std::remove_cvref_t<Buffer>;
    return transfer<void(boost::system::error_code, std::size_t, B)>(
        token,
        [](socket_type& s, B&& b, auto&& h) {
          s.async_write_some(std::move(b), std::forward<decltype(h)>(h));
        },
        std::move(buffer));
  }

  // ---- synchronous (no timeouts, as beast::tcp_stream) ----

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    return state_->socket.read_some(buffers);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    return state_->socket.read_some(buffers, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    return state_->socket.write_some(buffers);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    return state_->socket.write_some(buffers, ec);
  }

private:
  // Starts `start(wrapped_handler)` with the current expiry linked to the op in the kernel, or
  // completes with timeout (through the handler's executor) if the expiry has already passed.
  template <class Handler, class Start, class... Extra>
  void with_deadline(Handler&& handler, Start&& start, Extra&&... extra) {
    using H = std::decay_t<Handler>;
    const std::int64_t deadline = state_->expiry_ns;
    if (deadline && detail::steady_now_ns() >= deadline) {
      close();
      boost::asio::post(state_->socket.get_executor(),
                        boost::asio::append(std::forward<Handler>(handler),
                                            boost::system::error_code(boost::beast::error::timeout),
                                            std::forward<Extra>(extra)...));
      return;
    }
    socket_type& s = state_->socket;
    s.op_deadline_ns_ = deadline; // read by the initiation below, which runs now (a handler)
    struct reset {
      socket_type& s;
      ~reset() { s.op_deadline_ns_ = 0; }
    } guard{s};
    std::forward<Start>(start)(
        detail::timeout_handler<Executor, H>(std::forward<Handler>(handler), state_, deadline));
  }

  template <class Signature, class Token, class Start, class Buffers>
  auto transfer(Token& token, Start start, Buffers&& buffers) {
    return boost::asio::async_initiate<Token, Signature>(
        [this, start](auto&& handler, auto&& b) {
          auto go = [&](auto&& h) {
            start(state_->socket, std::move(b), std::forward<decltype(h)>(h));
          };
          if constexpr (std::is_reference_v<Buffers>) // borrowed: a timeout reports 0 bytes
            with_deadline(std::forward<decltype(handler)>(handler), go, std::size_t(0));
          else // owned: the buffer comes back with the timeout
            with_deadline(std::forward<decltype(handler)>(handler), go, std::size_t(0),
                          std::move(b));
        },
        token, std::forward<Buffers>(buffers));
  }

  template <class EndpointSequence>
  struct range_connect_op {
    basic_tcp_stream& stream;
    EndpointSequence endpoints;
    typename EndpointSequence::const_iterator it{};
    enum class step { start, trying, done } at = step::start;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}) {
      switch (at) {
      case step::start:
        it = endpoints.begin();
        if (it == endpoints.end()) { // never complete inside the initiating call
          at = step::done;
          boost::asio::post(
              stream.get_executor(),
              boost::asio::append(std::move(self),
                                  boost::system::error_code(boost::asio::error::not_found)));
          return;
        }
        break;
      case step::trying:
        if (!ec) {
          self.complete(ec, endpoint_type(*it));
          return;
        }
        if (ec == boost::beast::error::timeout || ++it == endpoints.end()) {
          self.complete(ec, endpoint_type());
          return;
        }
        break;
      case step::done:
        self.complete(ec, endpoint_type());
        return;
      }
      at = step::trying;
      boost::system::error_code ignored;
      stream.state_->socket.close(ignored); // a failed attempt leaves the socket unusable
      stream.async_connect(endpoint_type(*it), std::move(self));
    }
  };

  std::shared_ptr<state_type> state_;
};

/// Beast's tcp_stream for asio_uring: `asio_uring::tcp_stream`.
using tcp_stream = basic_tcp_stream<>;

/// WebSocket teardown and beast::close_socket for a tcp_stream, found by ADL.
template <class Executor>
void teardown(boost::beast::role_type role, basic_tcp_stream<Executor>& stream,
              boost::system::error_code& ec) {
  teardown(role, stream.socket(), ec);
}
template <class Executor, class TeardownHandler>
void async_teardown(boost::beast::role_type role, basic_tcp_stream<Executor>& stream,
                    TeardownHandler&& handler) {
  async_teardown(role, stream.socket(), std::forward<TeardownHandler>(handler));
}
template <class Executor>
void beast_close_socket(basic_tcp_stream<Executor>& stream) {
  stream.close();
}

} // namespace asio_uring

// The wrapped handler keeps the associated executor, allocator, cancellation slot... of the
// handler it wraps.
template <template <typename, typename> class Associator, class Executor, class Handler,
          class DefaultCandidate>
struct boost::asio::associator<Associator, asio_uring::detail::timeout_handler<Executor, Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type
  get(const asio_uring::detail::timeout_handler<Executor, Handler>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler_);
  }
  static auto get(const asio_uring::detail::timeout_handler<Executor, Handler>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler_, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler_, c);
  }
};
