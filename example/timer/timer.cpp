// Timer example: coroutines on asio_uring::io_context, a kernel timeout per wait, and an owned
// buffer that travels through a pipe and comes back with each completion.
#include <asio_uring.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Writes a line every 100 ms into the pipe, then closes it.
asio::awaitable<void> ticker(asio_uring::posix::stream_descriptor out) {
  asio_uring::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 1; i <= 5; ++i) {
    timer.expires_after(100ms);
    co_await timer.async_wait(asio::use_awaitable);
    // The string moves into the operation; it comes back when the kernel is done with it.
    auto [ec, n, line] =
        co_await out.async_write_some("tick " + std::to_string(i) + "\n", use_tuple);
    if (ec)
      co_return;
  }
}

// Reads the pipe with one owned buffer, moved in and out of every read, until EOF.
asio::awaitable<void> printer(asio_uring::posix::stream_descriptor in) {
  std::vector<char> buf(256);
  for (;;) {
    auto [ec, n, back] = co_await in.async_read_some(std::move(buf), use_tuple);
    buf = std::move(back); // as_tuple keeps the buffer even on error (EOF)
    if (ec) {
      std::printf("reader: %s\n", ec.message().c_str());
      co_return;
    }
    std::fwrite(buf.data(), 1, n, stdout);
    std::fflush(stdout);
  }
}

int main() {
  asio_uring::io_context ctx;
  int fds[2];
  if (::pipe(fds) != 0)
    return 1;
  asio::co_spawn(ctx, printer(asio_uring::posix::stream_descriptor(ctx, fds[0])), asio::detached);
  asio::co_spawn(ctx, ticker(asio_uring::posix::stream_descriptor(ctx, fds[1])), asio::detached);
  std::printf("asio_uring io_context (ring flags 0x%x) running\n", ctx.ring_setup_flags());
  ctx.run();
}
