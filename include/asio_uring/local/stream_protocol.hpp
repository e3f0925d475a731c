// asio_uring::local::stream_protocol: Unix stream sockets over io_uring.
#pragma once

#include <asio_uring/basic_socket_acceptor.hpp>
#include <asio_uring/basic_stream_socket.hpp>

#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <sys/socket.h>

namespace asio_uring::local {

class stream_protocol : public boost::asio::local::stream_protocol {
public:
  using endpoint = boost::asio::local::stream_protocol::endpoint;
  using socket = basic_stream_socket<boost::asio::local::stream_protocol>;
  using acceptor = basic_socket_acceptor<boost::asio::local::stream_protocol>;

  stream_protocol() noexcept = default;
  stream_protocol(const boost::asio::local::stream_protocol& p) noexcept
      : boost::asio::local::stream_protocol(p) {}
};

/// Connects two new sockets to each other (socketpair), as asio::local::connect_pair.
template <class Protocol, class Executor1, class Executor2>
void connect_pair(basic_socket<Protocol, Executor1>& a, basic_socket<Protocol, Executor2>& b) {
  int fds[2];
  Protocol p;
  if (::socketpair(p.family(), p.type() | SOCK_CLOEXEC, 0, fds) < 0)
    throw boost::system::system_error(
        boost::system::error_code(errno, boost::system::system_category()), "connect_pair");
  a.assign(p, fds[0]);
  b.assign(p, fds[1]);
}

} // namespace asio_uring::local
