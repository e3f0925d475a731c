// What the raw liburing servers (echo_raw_liburing.cpp, http_raw_liburing.cpp) share: the one
// ring (SINGLE_ISSUER | DEFER_TASKRUN when the kernel takes them, a large CQ), SQEs that never
// fail, the loopback listener, and SIGINT/SIGTERM as a signalfd. One server per program.
#pragma once

#include "echo_common.hpp"

#include <liburing.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

namespace bench::raw {

inline io_uring ring;

/// Sets the ring up. Every connection has one operation in flight, so a burst can complete
/// more of them than a default-sized CQ holds: the CQ is large (the kernel buffers overflow
/// anyway, slowly). Exits on failure.
inline void init_ring() {
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  p.cq_entries = 16384;
  if (io_uring_queue_init_params(1024, &ring, &p) < 0) {
    p = io_uring_params{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = 16384;
    if (int r = io_uring_queue_init_params(1024, &ring, &p); r < 0) {
      std::fprintf(stderr, "io_uring_queue_init: %s\n", std::strerror(-r));
      std::exit(1);
    }
  }
}

inline io_uring_sqe* get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  while (sqe == nullptr) { // SQ full: hand what we have to the kernel, then retry
    io_uring_submit(&ring);
    sqe = io_uring_get_sqe(&ring);
  }
  return sqe;
}

/// A listening socket on 127.0.0.1:`port` (0: any); prints `port=N` (echo_common.hpp).
inline int listen_on(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    std::perror("bind/listen");
    std::exit(1);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  print_echo_port(ntohs(addr.sin_port));
  return fd;
}

/// SIGINT and SIGTERM blocked and delivered to the returned signalfd instead.
inline int stop_signals_fd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  return ::signalfd(-1, &mask, SFD_CLOEXEC);
}

} // namespace bench::raw
