// Destroying or shutting down an io_context with work in flight: CQEs are drained before any
// handler (or coroutine frame holding a borrowed buffer) is destroyed; nothing is invoked.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <vector>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using namespace std::chrono_literals;

namespace {
// Counts handler destructions and fails on invocation.
struct never_invoked {
  std::shared_ptr<int> destroyed;
  bool* invoked;
  void operator()(error_code, std::size_t, tracked_buffer) const { *invoked = true; }
  void operator()(error_code, std::size_t) const { *invoked = true; }
};
} // namespace

BOOST_FIXTURE_TEST_SUITE(shutdown_tests, asio_uring::test::tracked_fixture)

BOOST_AUTO_TEST_CASE(destroy_with_1000_owned_and_1000_borrowed_reads_and_coroutines_in_flight) {
  constexpr int n = 1000;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  auto destroyed_marker = std::make_shared<int>(0);
  bool invoked = false;
  std::vector<std::array<char, 64>> borrowed(n); // outlives the context, as Asio requires
  auto frames_alive = std::make_shared<int>(0);
  auto start = std::chrono::steady_clock::now();
  std::size_t abandoned = 0;
  {
    io_context ctx;
    std::vector<stream_descriptor> ds;
    ds.reserve(n);
    for (auto& p : pipes)
      ds.emplace_back(ctx, ::dup(p.read_end));
    for (int i = 0; i < n; ++i) {
      ds[i].async_read_some(tracked_buffer(64), never_invoked{destroyed_marker, &invoked});
      ds[i].async_read_some(asio::buffer(borrowed[i]), never_invoked{destroyed_marker, &invoked});
    }
    // Coroutines with borrowed buffers on their frames (the Asio 1.81 shutdown bug).
    for (int i = 0; i < 100; ++i)
      asio::co_spawn(
          ctx,
          [&, i, alive = frames_alive]() -> asio::awaitable<void> {
            std::array<char, 256> on_frame;
            co_await ds[i].async_read_some(asio::buffer(on_frame), asio::use_awaitable);
            invoked = true;
          },
          asio::detached);
    BOOST_TEST(ctx.poll() == 100u); // the coroutines started; everything is in the kernel now
    BOOST_TEST(destroyed_marker.use_count() == 1 + 2 * n);
    BOOST_TEST(frames_alive.use_count() == 101);
    abandoned = ctx.abandoned_operations();
  }
  // The context's destructor cancelled, drained and destroyed every handler and frame.
  BOOST_TEST(!invoked);
  BOOST_TEST(destroyed_marker.use_count() == 1);
  BOOST_TEST(frames_alive.use_count() == 1);
  BOOST_TEST(abandoned == 0u);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(destroy_with_descriptors_still_open_drains_everything) {
  // Objects outliving their context are not allowed in Asio; but ops whose fd stays open must
  // still be cancelled by the context: a pipe end held elsewhere keeps the fd alive.
  constexpr int n = 500;
  std::vector<asio_uring::test::pipe_pair> pipes(n);
  auto marker = std::make_shared<int>(0);
  bool invoked = false;
  auto start = std::chrono::steady_clock::now();
  {
    io_context ctx;
    for (auto& p : pipes) {
      auto d = std::make_shared<stream_descriptor>(ctx, ::dup(p.read_end));
      d->async_read_some(
          tracked_buffer(32),
          [d, marker, &invoked](error_code, std::size_t, tracked_buffer) { invoked = true; });
    }
    asio::post(ctx, [] {}); // something queued, never run
    BOOST_TEST(ctx.poll_one() == 1u);
    BOOST_TEST(ctx.poll() == 0u);
    BOOST_TEST(marker.use_count() == 1 + n);
  }
  BOOST_TEST(!invoked);
  BOOST_TEST(marker.use_count() == 1);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 10s));
}

BOOST_AUTO_TEST_CASE(posted_work_is_destroyed_not_run_including_what_destruction_posts) {
  auto marker = std::make_shared<int>(0);
  bool ran = false;
  {
    io_context ctx;
    for (int i = 0; i < 100; ++i)
      asio::post(ctx, [marker, &ran] { ran = true; });
    // A coroutine suspended on a timer: destroying its handler posts the frame's destruction.
    asio::co_spawn(
        ctx,
        [marker, &ran]() -> asio::awaitable<void> {
          asio_uring::steady_timer t(co_await asio::this_coro::executor, 1h);
          co_await t.async_wait(asio::use_awaitable);
          ran = true;
        },
        asio::detached);
    BOOST_TEST(marker.use_count() == 102);
  }
  BOOST_TEST(!ran);
  BOOST_TEST(marker.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(destroy_after_a_worker_thread_ran_it) {
  // The worker owns the ring (SINGLE_ISSUER). When it exits, the kernel cancels what it
  // submitted; the destroying thread drains those CQEs from the shared CQ.
  asio_uring::test::pipe_pair p;
  auto marker = std::make_shared<int>(0);
  bool invoked = false;
  std::size_t abandoned = 1;
  {
    io_context ctx;
    stream_descriptor d(ctx, ::dup(p.read_end));
    d.async_read_some(tracked_buffer(16), [marker, &invoked](error_code, std::size_t,
                                                             tracked_buffer) { invoked = true; });
    std::thread worker([&] { ctx.poll(); });
    worker.join();
    d.release(); // keep the fd out of the destructor's close path; the context cancels
    abandoned = ctx.abandoned_operations();
    (void)abandoned;
  }
  BOOST_TEST(!invoked);
  BOOST_TEST(marker.use_count() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
