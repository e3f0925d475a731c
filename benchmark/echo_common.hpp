// Shared by the echo servers (run by run_echo.py): argv, the fd limit and the port line.
// Every server: `NAME PORT`, listens on 127.0.0.1:PORT with one thread, prints `port=N` (the
// bound port, so PORT may be 0) as its first stdout line, sets TCP_NODELAY on accepted sockets,
// echoes through a 16 KiB per-connection buffer, and exits 0 on SIGTERM or SIGINT.
#pragma once

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sys/resource.h>

namespace bench {

constexpr std::size_t echo_buffer_size = 16 * 1024;

inline unsigned short parse_echo_port(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PORT (0: any; the bound one is printed as port=N)\n", argv[0]);
    std::exit(2);
  }
  long port = std::strtol(argv[1], nullptr, 10);
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "bad port %s\n", argv[1]);
    std::exit(2);
  }
  return static_cast<unsigned short>(port);
}

/// Soft RLIMIT_NOFILE up to the hard limit (the idle-connection test holds thousands), and
/// SIGPIPE ignored: a peer that closes mid-echo must cost an error code, not the process.
inline void prepare_echo_process() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
  std::signal(SIGPIPE, SIG_IGN);
}

inline void print_echo_port(unsigned short port) {
  std::printf("port=%u\n", static_cast<unsigned>(port));
  std::fflush(stdout);
}

} // namespace bench
