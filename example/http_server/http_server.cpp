// http_server: a static-file HTTP/1.1 server with Beast over io_uring, the project's flagship
// example. Files are read with owned buffers from asio_uring::random_access_file and sent
// through asio_uring::tcp_stream, whose deadlines the kernel enforces.
//   http_server [--port N] [--root DIR] [--threads N] [--address A] [--request-timeout-ms N]
//               [--idle-timeout-ms N] [--send-timeout-ms N]
// Defaults: port 8080 (0: any free one), root = this repository's docs/, 1 thread, 127.0.0.1,
// timeouts 10 s / 30 s / 30 s (see server_config.hpp; header limit 8 KiB, body limit 2 MiB).
// --threads N > 1 runs an asio_uring::io_context_pool: one context per thread, each with its
// own acceptor on the same port (SO_REUSEPORT), so the kernel spreads the connections.
// Prints "http_server: serving ROOT at http://ADDRESS:PORT/" once listening; SIGINT or SIGTERM
// stops it (exit 0). Routes: GET/HEAD of files (Range, index.html for directories), POST /echo.
#include "server_config.hpp"
#include "session.hpp"

#include <asio_uring.hpp>
#include <asio_uring/io_context_pool.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/stat.h>
#include <vector>

#ifndef ASIO_URING_DEFAULT_DOC_ROOT
#define ASIO_URING_DEFAULT_DOC_ROOT "."
#endif

namespace {

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using boost::system::error_code;

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, const http_server::server_config& cfg) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) // the acceptor was closed
      co_return;
    if (ec) { // e.g. out of file descriptors: let connections close first
      std::fprintf(stderr, "http_server: accept: %s\n", ec.message().c_str());
      asio_uring::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), http_server::run_session(std::move(s), cfg),
                   asio::detached);
  }
}

tcp::acceptor listen_on(asio_uring::io_context& ctx, const tcp::endpoint& ep, bool reuse_port) {
  tcp::acceptor a(ctx, ep.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  if (reuse_port) // every acceptor of the pool must set it before binding
    a.set_option(asio_uring::socket_base::reuse_port(true));
  a.bind(ep);
  a.listen();
  return a;
}

void announce(const http_server::server_config& cfg, const tcp::endpoint& ep) {
  std::printf("http_server: serving %s at http://%s:%u/\n", cfg.root.c_str(),
              ep.address().to_string().c_str(), ep.port());
  std::fflush(stdout);
}

// One context, run by this thread.
void serve_single(const http_server::server_config& cfg, const tcp::endpoint& ep) {
  asio_uring::io_context ctx;
  tcp::acceptor acceptor = listen_on(ctx, ep, false);
  asio_uring::signal_set signals(ctx, SIGINT, SIGTERM);
  signals.async_wait([&](error_code, int) {
    acceptor.close();
    ctx.stop(); // open connections are cancelled when ctx is destroyed
  });
  announce(cfg, acceptor.local_endpoint());
  asio::co_spawn(ctx, accept_loop(acceptor, cfg), asio::detached);
  ctx.run();
}

// One context per thread, one acceptor each on the same port.
void serve_pool(const http_server::server_config& cfg, tcp::endpoint ep, std::size_t threads) {
  asio_uring::io_context_pool pool(threads);
  std::vector<tcp::acceptor> acceptors;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    acceptors.push_back(listen_on(pool[i], ep, true));
    ep.port(acceptors.front().local_endpoint().port()); // port 0: the others join the first
  }
  asio_uring::signal_set signals(pool[0], SIGINT, SIGTERM);
  signals.async_wait([&](error_code, int) { pool.stop(); });
  announce(cfg, ep);
  for (std::size_t i = 0; i < pool.size(); ++i)
    asio::co_spawn(pool[i], accept_loop(acceptors[i], cfg), asio::detached);
  pool.run();
  pool.join();
  // The acceptors and the signal set go before the pool (declared after it): on this thread,
  // now that the pool's threads have exited.
}

bool parse_number(const char* text, unsigned long max, unsigned long& out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long v = std::strtoul(text, &end, 10);
  if (errno || end == text || *end || v > max || text[0] == '-')
    return false;
  out = v;
  return true;
}

// Many connections need many descriptors: lift the soft limit to the hard one.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

constexpr const char* usage =
    "usage: http_server [--port N] [--root DIR] [--threads N] [--address A]\n"
    "                   [--request-timeout-ms N] [--idle-timeout-ms N] [--send-timeout-ms N]\n";

struct options {
  http_server::server_config config;
  std::string root = ASIO_URING_DEFAULT_DOC_ROOT;
  std::string address = "127.0.0.1";
  unsigned long port = 8080;
  unsigned long threads = 1;
};

// Every option takes a value; false on anything unknown or out of range.
bool parse_options(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view opt = argv[i];
    const char* value = argv[i + 1]; // argv[argc] is null
    if (!value)
      return false;
    const auto milliseconds = [value](std::chrono::milliseconds& field) {
      unsigned long ms = 0;
      if (!parse_number(value, 86'400'000, ms) || ms == 0)
        return false;
      field = std::chrono::milliseconds(ms);
      return true;
    };
    bool ok = true;
    if (opt == "--port")
      ok = parse_number(value, 65535, o.port);
    else if (opt == "--root")
      o.root = value;
    else if (opt == "--address")
      o.address = value;
    else if (opt == "--threads")
      ok = parse_number(value, 1024, o.threads) && o.threads > 0;
    else if (opt == "--request-timeout-ms")
      ok = milliseconds(o.config.request_timeout);
    else if (opt == "--idle-timeout-ms")
      ok = milliseconds(o.config.idle_timeout);
    else if (opt == "--send-timeout-ms")
      ok = milliseconds(o.config.send_timeout);
    else
      ok = false;
    if (!ok)
      return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!parse_options(argc, argv, o)) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::unique_ptr<char, decltype(&std::free)> canonical(::realpath(o.root.c_str(), nullptr),
                                                        &std::free);
  struct stat st {};
  if (!canonical || ::stat(canonical.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "http_server: document root %s: %s\n", o.root.c_str(),
                 canonical ? "not a directory" : std::strerror(errno));
    return 2;
  }
  o.config.root = canonical.get();
  error_code ec;
  const auto address = asio::ip::make_address(o.address, ec);
  if (ec) {
    std::fprintf(stderr, "http_server: --address %s: %s\n", o.address.c_str(),
                 ec.message().c_str());
    return 2;
  }
  raise_fd_limit();
  try {
    const tcp::endpoint ep(address, static_cast<unsigned short>(o.port));
    if (o.threads == 1)
      serve_single(o.config, ep);
    else
      serve_pool(o.config, ep, o.threads);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_server: %s\n", e.what());
    return 1;
  }
}
