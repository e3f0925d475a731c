// echo_server: a TCP echo server, one coroutine per connection, in three styles:
//   owned     a std::vector<char> moves into each read and comes back with the completion; the
//             write sends a slice of it (the n bytes read) and hands the whole vector back
//   borrowed  Asio's own API: the buffer stays in the coroutine frame, asio::buffer(...) views
//   ring      a buffer_ring: the kernel picks a buffer when data arrives, so an idle connection
//             holds none; the ring_buffer goes back to the ring when it is destroyed
//   echo_server [--port N] [--mode owned|borrowed|ring]   (port 0: any; the bound one is printed)
// Stops on SIGINT or SIGTERM. Try it with echo_client (example/echo_client).
#include <asio_uring.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using boost::system::error_code;
// as_tuple: an owned buffer comes back even when the operation fails (use_awaitable alone
// would throw and drop it).
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t buffer_size = 16 * 1024;

asio::awaitable<void> echo_owned(tcp::socket s) {
  std::vector<char> buf(buffer_size);
  for (;;) {
    auto [ec, n, back] = co_await s.async_read_some(std::move(buf), use_tuple);
    if (ec) // eof: the peer is done
      co_return;
    // `back` is the whole vector (its size did not change); send only the n bytes received.
    auto [wec, wn, part] =
        co_await asio_uring::async_write(s, asio_uring::slice(std::move(back), 0, n), use_tuple);
    if (wec)
      co_return;
    buf = std::move(part).release(); // the whole vector again, for the next read
  }
}

asio::awaitable<void> echo_borrowed(tcp::socket s) {
  std::vector<char> buf(buffer_size); // in the coroutine frame: alive until every handler ran
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), use_tuple);
    if (ec)
      co_return;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), use_tuple);
    if (wec)
      co_return;
  }
}

asio::awaitable<void> echo_ring(tcp::socket s, asio_uring::buffer_ring& ring) {
  for (;;) {
    auto [ec, rb] = co_await s.async_receive(ring, use_tuple);
    if (ec)
      co_return;
    // A borrowed write straight from the ring's memory: `rb` keeps the buffer out of the ring
    // until the write is done, and gives it back when it goes out of scope.
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(rb.data(), rb.size()), use_tuple);
    if (wec)
      co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::string_view mode,
                                  asio_uring::buffer_ring* ring) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted) // the acceptor was closed: shutting down
      co_return;
    if (ec) { // e.g. out of file descriptors: say so, and give connections time to close
      std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
      asio_uring::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    s.set_option(tcp::no_delay(true));
    auto ex = acceptor.get_executor();
    if (mode == "owned")
      asio::co_spawn(ex, echo_owned(std::move(s)), asio::detached);
    else if (mode == "borrowed")
      asio::co_spawn(ex, echo_borrowed(std::move(s)), asio::detached);
    else
      asio::co_spawn(ex, echo_ring(std::move(s), *ring), asio::detached);
  }
}

int main(int argc, char** argv) {
  unsigned short port = 5555;
  std::string_view mode = "owned";
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (opt == "--port" && i + 1 < argc)
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    else if (opt == "--mode" && i + 1 < argc)
      mode = argv[++i];
    else
      ok = false;
  }
  if (!ok || (mode != "owned" && mode != "borrowed" && mode != "ring")) {
    std::fprintf(stderr, "usage: echo_server [--port N] [--mode owned|borrowed|ring]\n");
    return 2;
  }
  try {
    asio_uring::io_context ctx;
    // ring mode: 1024 buffers of 16 KiB shared by every connection (the kernel copies into
    // them, nothing is pinned); a receive that finds the ring empty waits for one to come back.
    std::optional<asio_uring::buffer_ring> ring;
    if (mode == "ring")
      ring.emplace(ctx, 1024, buffer_size);
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
    asio_uring::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](error_code, int) {
      acceptor.close(); // the accept loop ends with operation_aborted
      ctx.stop();       // connections still open are cancelled when ctx is destroyed
    });
    std::printf("listening on 127.0.0.1:%u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(ctx, accept_loop(acceptor, mode, ring ? &*ring : nullptr), asio::detached);
    ctx.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
}
