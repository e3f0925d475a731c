// asio_uring::socket_base: Asio's socket options and constants, plus SO_REUSEPORT.
#pragma once

#include <boost/asio/socket_base.hpp>

#include <sys/socket.h>

namespace asio_uring {

class socket_base : public boost::asio::socket_base {
public:
  /// SO_REUSEPORT: several listeners on one port, the kernel spreads connections (one
  /// io_context per thread, see io_context_pool).
  using reuse_port = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

protected:
  ~socket_base() = default;
};

} // namespace asio_uring
