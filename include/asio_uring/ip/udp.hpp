// asio_uring::ip::udp: Asio's UDP protocol with the io_uring datagram socket.
#pragma once

#include <asio_uring/basic_datagram_socket.hpp>

#include <boost/asio/ip/udp.hpp>

namespace asio_uring::ip {

class udp : public boost::asio::ip::udp {
public:
  using endpoint = boost::asio::ip::udp::endpoint;
  using resolver = boost::asio::ip::udp::resolver;
  using socket = basic_datagram_socket<boost::asio::ip::udp>;

  udp(const boost::asio::ip::udp& p) noexcept : boost::asio::ip::udp(p) {}
  static udp v4() noexcept { return boost::asio::ip::udp::v4(); }
  static udp v6() noexcept { return boost::asio::ip::udp::v6(); }
};

} // namespace asio_uring::ip
