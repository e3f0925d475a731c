// Regression tests for mechanisms a code review found broken; each says what broke.
#include "fixtures.hpp"

#include <asio_uring.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <functional>
#include <thread>
#include <unistd.h>

namespace asio = boost::asio;
using asio_uring::io_context;
using asio_uring::posix::stream_descriptor;
using asio_uring::test::tracked_buffer;
using boost::system::error_code;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(regressions_tests, asio_uring::test::tracked_fixture)

// close() before run() closed the fd at once while a read for it was still queued: the read
// then started on whatever file reused the fd number.
BOOST_AUTO_TEST_CASE(op_queued_before_close_never_starts_on_a_reused_fd) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor d(ctx, p.take_read());
  int old_fd = d.native_handle();
  error_code got;
  std::size_t back = 0;
  d.async_read_some(tracked_buffer(8), [&](error_code ec, std::size_t, tracked_buffer b) {
    got = ec;
    back = b.size();
  });
  d.close();
  asio_uring::test::pipe_pair other; // likely takes the old fd number
  int reused = ::dup2(other.read_end, old_fd);
  BOOST_TEST_REQUIRE(reused == old_fd);
  BOOST_TEST_REQUIRE(::write(other.write_end, "steal", 5) == 5);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(got == asio::error::operation_aborted);
  BOOST_TEST(back == 8u);
  char buf[8];
  BOOST_TEST(::read(old_fd, buf, sizeof buf) == 5); // the data was not taken by the old read
  ::close(old_fd);
}

// release() on the running thread left the cancel SQE unsubmitted until after the caller
// closed the fd: the read was never cancelled and run() never returned.
BOOST_AUTO_TEST_CASE(release_then_close_on_the_running_thread_cancels_the_read) {
  io_context ctx;
  asio_uring::test::pipe_pair p;
  stream_descriptor d(ctx, p.take_read());
  error_code got;
  d.async_read_some(tracked_buffer(8),
                    [&](error_code ec, std::size_t, tracked_buffer) { got = ec; });
  asio::post(ctx, [&] { ::close(d.release()); });
  asio_uring::test::run_bounded(ctx, 5s);
  BOOST_TEST(got == asio::error::operation_aborted);
}

// Destroying the context while an op held the last pooled_buffer of a destroyed pool
// deadlocked: shutdown held a global mutex that releasing the registration took again.
BOOST_AUTO_TEST_CASE(destroying_the_context_with_a_pooled_buffer_in_flight_does_not_hang) {
  asio_uring::test::pipe_pair p;
  bool invoked = false;
  {
    io_context ctx;
    stream_descriptor d(ctx, ::dup(p.read_end));
    {
      asio_uring::buffer_pool pool(ctx, 2, 64);
      d.async_read_some(
          std::move(*pool.try_acquire()),
          [&](error_code, std::size_t, asio_uring::pooled_buffer) { invoked = true; });
    }
    BOOST_TEST(ctx.poll() == 0u);
    d.release(); // keep the fd: the context's shutdown must cancel the read itself
  }
  BOOST_TEST(!invoked);
}

// A handler re-posting itself on the running thread starved work posted from other threads.
BOOST_AUTO_TEST_CASE(self_reposting_handler_does_not_starve_foreign_posts) {
  io_context ctx;
  std::atomic<bool> foreign_ran{false};
  std::function<void()> spin = [&] {
    if (!foreign_ran)
      asio::post(ctx, spin);
  };
  asio::post(ctx, spin);
  std::thread t([&] {
    std::this_thread::sleep_for(2ms);
    asio::post(ctx, [&] { foreign_ran = true; });
  });
  asio_uring::test::run_bounded(ctx, 10s);
  t.join();
  BOOST_TEST(foreign_ran.load());
}

// A timer wait that had fired but whose handler had not run yet was counted by cancel().
BOOST_AUTO_TEST_CASE(cancel_does_not_count_a_wait_that_already_fired) {
  io_context ctx;
  asio_uring::steady_timer a(ctx, 1ms), b(ctx, 1ms);
  std::size_t cancelled = 9;
  error_code b_result = asio::error::would_block;
  a.async_wait([&](error_code) { cancelled = b.cancel(); }); // b fired at the same moment
  b.async_wait([&](error_code ec) { b_result = ec; });
  std::this_thread::sleep_for(5ms);
  asio_uring::test::run_bounded(ctx);
  BOOST_TEST(cancelled == 0u);
  BOOST_TEST(!b_result); // the real result stands
}

BOOST_AUTO_TEST_SUITE_END()
