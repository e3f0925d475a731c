// Beast's WebSocket customisation points for asio_uring sockets, found by ADL: the closing
// handshake's teardown (shutdown, read to EOF, close) and beast::close_socket.
#pragma once

#include <asio_uring/basic_stream_socket.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/role.hpp>

#include <vector>

namespace asio_uring {

namespace detail {

/// Tears a stream socket down as Beast does for Asio's: a server shuts its send side down
/// first, both read (and drop) until EOF, a client shuts down after, then the socket closes.
/// Reads use an owned buffer, so the composed op can move freely between steps.
template <class Protocol, class Executor>
class teardown_op {
public:
  teardown_op(basic_stream_socket<Protocol, Executor>& s, boost::beast::role_type role)
      : socket_(s), role_(role) {}

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t = 0,
                  std::vector<char> buffer = {}) {
    switch (step_) {
    case step::start:
      if (role_ == boost::beast::role_type::server)
        socket_.shutdown(boost::asio::socket_base::shutdown_send, ec);
      if (ec) { // never complete inside the initiating call
        step_ = step::done;
        boost::asio::post(socket_.get_executor(),
                          boost::asio::append(std::move(self), ec, 0, std::vector<char>{}));
        return;
      }
      step_ = step::reading;
      buffer.resize(2048);
      socket_.async_read_some(std::move(buffer), std::move(self));
      return;
    case step::reading:
      if (!ec) { // data the peer still sends is dropped
        socket_.async_read_some(std::move(buffer), std::move(self));
        return;
      }
      if (ec == boost::asio::error::eof) {
        ec = {};
        if (role_ == boost::beast::role_type::client)
          socket_.shutdown(boost::asio::socket_base::shutdown_send, ec);
        if (!ec)
          socket_.close(ec);
      }
      break;
    case step::done:
      break;
    }
    self.complete(ec);
  }

private:
  enum class step { start, reading, done };
  basic_stream_socket<Protocol, Executor>& socket_;
  boost::beast::role_type role_;
  step step_ = step::start;
};

} // namespace detail

/// Beast's `websocket::teardown` for an asio_uring stream socket (blocking).
template <class Protocol, class Executor>
void teardown(boost::beast::role_type role, basic_stream_socket<Protocol, Executor>& socket,
              boost::system::error_code& ec) {
  if (role == boost::beast::role_type::server)
    socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  if (ec)
    return;
  char buffer[2048];
  do
    socket.read_some(boost::asio::buffer(buffer), ec);
  while (!ec);
  if (ec != boost::asio::error::eof)
    return;
  ec = {};
  if (role == boost::beast::role_type::client)
    socket.shutdown(boost::asio::socket_base::shutdown_send, ec);
  if (!ec)
    socket.close(ec);
}

/// Beast's `websocket::async_teardown` for an asio_uring stream socket: `void(error_code)`.
template <class Protocol, class Executor, class TeardownHandler>
void async_teardown(boost::beast::role_type role, basic_stream_socket<Protocol, Executor>& socket,
                    TeardownHandler&& handler) {
  boost::asio::async_compose<TeardownHandler, void(boost::system::error_code)>(
      detail::teardown_op<Protocol, Executor>(socket, role), handler, socket);
}

/// What `beast::close_socket` does for an asio_uring socket: close it, ignoring errors.
template <class Protocol, class Executor>
void beast_close_socket(basic_socket<Protocol, Executor>& socket) {
  boost::system::error_code ec;
  socket.close(ec);
}

} // namespace asio_uring
