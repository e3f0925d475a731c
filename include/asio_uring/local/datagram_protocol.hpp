// asio_uring::local::datagram_protocol: Unix datagram sockets over io_uring.
#pragma once

#include <asio_uring/basic_datagram_socket.hpp>

#include <boost/asio/local/datagram_protocol.hpp>

namespace asio_uring::local {

class datagram_protocol : public boost::asio::local::datagram_protocol {
public:
  using endpoint = boost::asio::local::datagram_protocol::endpoint;
  using socket = basic_datagram_socket<boost::asio::local::datagram_protocol>;

  datagram_protocol() noexcept = default;
  datagram_protocol(const boost::asio::local::datagram_protocol& p) noexcept
      : boost::asio::local::datagram_protocol(p) {}
};

} // namespace asio_uring::local
