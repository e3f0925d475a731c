// Cross-thread use (run under TSan in CI): posts, stop and initiations from other threads, with
// the ring touched only by the running thread.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using boost::system::error_code;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(threads_tests)

BOOST_AUTO_TEST_CASE(four_threads_post_100k_functions_each_all_run_exactly_once) {
  constexpr int threads = 4, per_thread = 100000;
  io_context ctx;
  std::vector<std::uint8_t> ran(threads * per_thread, 0); // touched only by the running thread
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  std::vector<std::thread> posters;
  for (int t = 0; t < threads; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        asio::post(ctx, [&ran, k = t * per_thread + i] { ++ran[k]; });
    });
  for (auto& p : posters)
    p.join();
  guard.reset();
  runner.join();
  long once = 0, other = 0;
  for (auto r : ran)
    (r == 1 ? once : other)++;
  BOOST_TEST(once == threads * per_thread);
  BOOST_TEST(other == 0);
}

BOOST_AUTO_TEST_CASE(blocked_run_wakes_promptly_for_a_foreign_post) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::atomic<long> latency_us{-1};
  std::thread runner([&] { ctx.run(); });
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(2ms); // let run() block in io_uring_enter
    auto sent = std::chrono::steady_clock::now();
    std::atomic<bool> done{false};
    asio::post(ctx, [&] {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - sent)
                    .count();
      latency_us = std::max<long>(latency_us, us);
      done = true;
    });
    while (!done)
      std::this_thread::yield();
  }
  guard.reset();
  runner.join();
  BOOST_TEST_MESSAGE("worst wake-up latency " << latency_us << " us");
  BOOST_TEST(latency_us < 1'000'000); // a wake-up, not a poll interval (bounded, not timed)
}

BOOST_AUTO_TEST_CASE(stop_from_another_thread_wakes_a_blocked_run) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  std::this_thread::sleep_for(5ms);
  ctx.stop();
  runner.join(); // hangs (test timeout) if stop() did not wake it
  BOOST_TEST(ctx.stopped());
}

BOOST_AUTO_TEST_CASE(initiations_from_other_threads_are_forwarded_to_the_ring_thread) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  constexpr int n = 64;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  std::vector<std::unique_ptr<stream_descriptor>> ds;
  for (auto& p : pipes)
    ds.push_back(std::make_unique<stream_descriptor>(ctx, ::dup(p.read_end)));
  std::atomic<int> got{0};
  std::vector<std::thread> starters;
  for (int t = 0; t < 4; ++t)
    starters.emplace_back([&, t] {
      for (int i = t; i < n; i += 4)
        ds[i]->async_read_some(
            std::vector<char>(8),
            [&](error_code ec, std::size_t k, std::vector<char>) { got += !ec && k == 1; });
    });
  for (auto& s : starters)
    s.join();
  for (auto& p : pipes)
    BOOST_TEST_REQUIRE(::write(p.write_end, "x", 1) == 1);
  while (got < n)
    std::this_thread::sleep_for(1ms);
  guard.reset();
  runner.join();
  BOOST_TEST(got == n);
}

// close() from a thread that is not running the context: the fd stays open until the ring
// thread has cancelled its ops, then closes; the pending read gets operation_aborted.
BOOST_AUTO_TEST_CASE(close_from_another_thread_cancels_pending_reads) {
  io_context ctx;
  auto guard = asio::make_work_guard(ctx);
  std::thread runner([&] { ctx.run(); });
  asio_uring::test::pipe_pair p;
  stream_descriptor in(ctx, p.take_read());
  std::atomic<int> aborted{0};
  in.async_read_some(std::vector<char>(8), [&](error_code ec, std::size_t, std::vector<char> b) {
    aborted += ec == asio::error::operation_aborted && b.size() == 8;
  });
  std::this_thread::sleep_for(5ms); // the read is in the kernel by now
  in.close();
  for (int i = 0; i < 5000 && aborted == 0; ++i)
    std::this_thread::sleep_for(1ms);
  guard.reset();
  runner.join();
  BOOST_TEST(aborted == 1);
}

BOOST_AUTO_TEST_SUITE_END()
