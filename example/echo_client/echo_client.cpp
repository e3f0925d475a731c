// echo_client: load for an echo server (example/echo_server). C connections, one coroutine
// each, play ping-pong: send an S-byte message, read S bytes back, check they are the same,
// repeat until T seconds are up. Both buffers are owned: they move into the write and the read
// (run side by side in a parallel group, so a message larger than the socket buffers cannot
// deadlock) and come back with the results.
//   echo_client [--host 127.0.0.1] [--port 5555] [--connections 16] [--size 64] [--seconds 2]
// Prints `msgs=N msgs/s=R p50_us=.. p90_us=.. p99_us=.. errors=E` (round-trip latency); exits 1
// on any error or if no message came back.
#include <asio_uring.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace asio = boost::asio;
using asio_uring::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct results {
  std::vector<double> latencies_us; // one per round trip
  clock_type::time_point last{};    // when the last round trip completed
  std::size_t errors = 0;
  void fail(unsigned id, const char* what, boost::system::error_code ec = {}) {
    std::fprintf(stderr, "connection %u: %s%s%s\n", id, what, ec ? ": " : "",
                 ec ? ec.message().c_str() : "");
    ++errors;
  }
};

asio::awaitable<void> ping_pong(unsigned id, tcp::resolver::results_type endpoints,
                                std::size_t size, clock_type::time_point deadline, results& r) {
  tcp::socket s(co_await asio::this_coro::executor);
  if (auto [ec, ep] = co_await asio_uring::async_connect(s, endpoints, use_tuple); ec)
    co_return r.fail(id, "connect", ec);
  s.set_option(tcp::no_delay(true));
  std::vector<char> out(size), in(size);
  for (unsigned seq = 0; clock_type::now() < deadline; ++seq) {
    for (std::size_t i = 0; i < size; ++i) // every message different
      out[i] = static_cast<char>(id * 131 + seq * 7 + i);
    auto start = clock_type::now();
    auto [order, wec, wn, out_back, rec, rn, in_back] =
        co_await asio::experimental::make_parallel_group(
            asio_uring::async_write(s, std::move(out), asio::deferred),
            asio_uring::async_read(s, std::move(in), asio::deferred))
            .async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
    out = std::move(out_back); // both buffers are back, whatever happened
    in = std::move(in_back);
    if (wec)
      co_return r.fail(id, "write", wec);
    if (rec)
      co_return r.fail(id, "read", rec);
    if (in != out)
      co_return r.fail(id, "the echo differs from the message");
    r.last = clock_type::now();
    r.latencies_us.push_back(std::chrono::duration<double, std::micro>(r.last - start).count());
  }
}

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", port = "5555";
  unsigned connections = 16;
  std::size_t size = 64;
  double seconds = 2;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::string_view opt = argv[i];
    const char* value = i + 1 < argc ? argv[++i] : nullptr;
    if (!value)
      ok = false;
    else if (opt == "--host")
      host = value;
    else if (opt == "--port")
      port = value;
    else if (opt == "--connections")
      connections = static_cast<unsigned>(std::atoi(value));
    else if (opt == "--size")
      size = std::strtoul(value, nullptr, 10);
    else if (opt == "--seconds")
      seconds = std::atof(value);
    else
      ok = false;
  }
  if (!ok || connections == 0 || size == 0 || seconds <= 0) {
    std::fprintf(stderr, "usage: echo_client [--host H] [--port N] [--connections C] [--size S] "
                         "[--seconds T]\n");
    return 2;
  }
  results r; // before ctx: outlives the coroutines
  unsigned running = connections;
  try {
    asio_uring::io_context ctx;
    auto endpoints = tcp::resolver(ctx).resolve(host, port); // Asio's resolver (blocking)
    auto t0 = clock_type::now();
    auto deadline = t0 + std::chrono::duration_cast<clock_type::duration>(
                             std::chrono::duration<double>(seconds));
    for (unsigned id = 0; id < connections; ++id)
      asio::co_spawn(ctx, ping_pong(id, endpoints, size, deadline, r), [&](std::exception_ptr e) {
        if (e)
          r.fail(id, "exception");
        --running;
      });
    // Each connection finishes the round trip it is in at the deadline; a server that stops
    // answering must not hang the client.
    ctx.run_for(std::chrono::duration<double>(seconds + 5));
    if (running > 0) {
      std::fprintf(stderr, "%u connections still waiting for an echo: giving up\n", running);
      r.errors += running;
    }
    std::vector<double>& l = r.latencies_us;
    std::sort(l.begin(), l.end());
    auto pct = [&l](double p) {
      return l.empty() ? 0.0 : l[static_cast<std::size_t>(p * (l.size() - 1))];
    };
    double elapsed = std::chrono::duration<double>(r.last - t0).count();
    std::printf("msgs=%zu msgs/s=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f errors=%zu\n", l.size(),
                elapsed > 0 ? static_cast<double>(l.size()) / elapsed : 0.0, pct(0.50), pct(0.90),
                pct(0.99), r.errors);
    return r.errors == 0 && !l.empty() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_client: %s\n", e.what());
    return 1;
  }
}
