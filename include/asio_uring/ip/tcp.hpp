// asio_uring::ip::tcp: Asio's TCP protocol with io_uring socket types, so that
// `using asio_uring::ip::tcp;` ports a program (endpoints and resolvers stay Asio's).
#pragma once

#include <asio_uring/basic_socket_acceptor.hpp>
#include <asio_uring/basic_stream_socket.hpp>

#include <boost/asio/ip/tcp.hpp>

namespace asio_uring::ip {

class tcp : public boost::asio::ip::tcp {
public:
  using endpoint = boost::asio::ip::tcp::endpoint;
  using resolver = boost::asio::ip::tcp::resolver;
  using socket = basic_stream_socket<boost::asio::ip::tcp>;
  using acceptor = basic_socket_acceptor<boost::asio::ip::tcp>;
  using no_delay = boost::asio::ip::tcp::no_delay;

  tcp(const boost::asio::ip::tcp& p) noexcept : boost::asio::ip::tcp(p) {}
  static tcp v4() noexcept { return boost::asio::ip::tcp::v4(); }
  static tcp v6() noexcept { return boost::asio::ip::tcp::v6(); }
};

} // namespace asio_uring::ip
