// asio_uring::connect / async_connect over an endpoint sequence (a resolver's results): what
// asio::connect does for Asio's sockets, for ours (asio::async_connect takes only Asio's).
#pragma once

#include <asio_uring/basic_socket.hpp>

#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/error.hpp>

#include <iterator>

namespace asio_uring {

namespace detail {
template <class Socket, class EndpointSequence>
struct connect_sequence_op {
  using endpoint_type = typename Socket::endpoint_type;
  Socket& socket;
  EndpointSequence endpoints;
  decltype(std::begin(std::declval<const EndpointSequence&>())) it{};
  boost::system::error_code last = boost::asio::error::not_found;
  boost::asio::coroutine coro{};

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}) {
    BOOST_ASIO_CORO_REENTER(coro) {
      for (it = std::begin(endpoints); it != std::end(endpoints); ++it) {
        socket.close();
        BOOST_ASIO_CORO_YIELD socket.async_connect(endpoint_type(*it), std::move(self));
        if (!ec)
          return self.complete(ec, endpoint_type(*it));
        last = ec;
        if (ec == boost::asio::error::operation_aborted)
          break;
      }
      self.complete(last, endpoint_type());
    }
  }
};
} // namespace detail

/// Tries each endpoint in turn (closing the socket between attempts) until one connects.
/// @par Completion Signature `void(error_code, Protocol::endpoint)`: the endpoint connected to,
/// or asio::error::not_found for an empty sequence (the last attempt's error otherwise).
template <class Protocol, class Executor, class EndpointSequence,
          class CompletionToken = boost::asio::default_completion_token_t<Executor>>
requires requires(const EndpointSequence& s) {
  std::begin(s);
}
auto async_connect(basic_socket<Protocol, Executor>& socket, const EndpointSequence& endpoints,
                   CompletionToken&& token = {}) {
  using op = detail::connect_sequence_op<basic_socket<Protocol, Executor>, EndpointSequence>;
  return boost::asio::async_compose<CompletionToken,
                                    void(boost::system::error_code, typename Protocol::endpoint)>(
      op{socket, endpoints}, token, socket);
}

/// Blocking counterpart: returns the endpoint connected to; throws on failure.
template <class Protocol, class Executor, class EndpointSequence>
requires requires(const EndpointSequence& s) {
  std::begin(s);
}
typename Protocol::endpoint connect(basic_socket<Protocol, Executor>& socket,
                                    const EndpointSequence& endpoints) {
  boost::system::error_code ec = boost::asio::error::not_found;
  for (const auto& e : endpoints) {
    typename Protocol::endpoint ep(e);
    socket.close();
    socket.connect(ep, ec);
    if (!ec)
      return ep;
  }
  throw boost::system::system_error(ec, "connect");
}

} // namespace asio_uring
