// Socket test helpers: a connected TCP pair, open-fd counting.
#pragma once

#include <asio_uring/ip/tcp.hpp>

#include <boost/asio/ip/address_v4.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <utility>

namespace asio_uring::test {

/// Two connected TCP sockets on loopback (server side first).
inline std::pair<ip::tcp::socket, ip::tcp::socket> connected_pair(io_context& ctx) {
  ip::tcp::acceptor acceptor(ctx, ip::tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  ip::tcp::socket client(ctx);
  client.connect(acceptor.local_endpoint());
  ip::tcp::socket server = acceptor.accept();
  return {std::move(server), std::move(client)};
}

/// File descriptors open in this process (not counting the one that lists them).
inline int open_fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::dirent* e = ::readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    ::closedir(d);
  }
  return n - 1;
}

} // namespace asio_uring::test
